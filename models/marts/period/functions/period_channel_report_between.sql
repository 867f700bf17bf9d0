{{ config(materialized='table_function') }}

-- period_channel_report for any range: select * from marts.period_channel_report_between(start, end)
{{ delivery_report_query(period_report_window('period_start', 'period_end'), 'channel') }}
