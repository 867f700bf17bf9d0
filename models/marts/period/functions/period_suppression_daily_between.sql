{{ config(materialized='table_function') }}

-- period_suppression_daily for any range: select * from marts.period_suppression_daily_between(start, end)
{{ suppression_daily_query(period_function_window()) }}
