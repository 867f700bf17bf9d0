{{ config(materialized='table_function') }}

-- period_suppression_exclusions for any range: select * from marts.period_suppression_exclusions_between(start, end)
{{ suppression_exclusions_query(period_function_window()) }}
