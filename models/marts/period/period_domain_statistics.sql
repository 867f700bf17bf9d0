-- One row per email delivery x recipient domain with events in the period window: the
-- delivery statistics of the domain's messages (domain over all history). The same query
-- as period_domain_statistics_between(period_start, period_end).
{{ message_breakdown_query(period_vars_window(), 'recipient_domain', 'delivery', channel='email') }}
