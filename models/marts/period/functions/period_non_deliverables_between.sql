{{ config(materialized='table_function') }}

-- period_non_deliverables for any range: select * from marts.period_non_deliverables_between(start, end)
{{ failure_reasons_query(period_report_window('period_start', 'period_end'), 'delivery', by_domain=true) }}
