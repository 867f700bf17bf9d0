{{ config(materialized='table_function') }}

-- period_domain_statistics for any range: select * from marts.period_domain_statistics_between(start, end)
{{ message_breakdown_query(period_function_window(), 'recipient_domain', 'delivery', channel='email') }}
