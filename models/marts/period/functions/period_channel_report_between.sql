{{ config(materialized='table_function') }}

-- period_channel_report for any range: select * from marts.period_channel_report_between(start, end)
{{ delivery_report_query(period_function_window(), 'channel') }}
