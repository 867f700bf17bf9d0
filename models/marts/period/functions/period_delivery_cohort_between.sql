{{ config(materialized='table_function') }}

-- period_delivery_cohort for any range: select * from marts.period_delivery_cohort_between(start, end)
{{ delivery_cohort_query(period_function_window()) }}
