-- One row per delivery x reason kind x failure type x reason code x recipient domain with
-- events in the period window: errors by type and by domain, rejected by rules. The same
-- query as period_non_deliverables_between(period_start, period_end).
{{ failure_reasons_query(period_vars_window(), 'delivery', by_domain=true) }}
