{{ config(materialized='table_function') }}

-- period_delivery_report for any range: select * from marts.period_delivery_report_between(start, end)
{{ delivery_report_query(period_function_window(), 'delivery') }}
