{{ config(materialized='table_function') }}

-- period_non_deliverables for any range: select * from marts.period_non_deliverables_between(start, end)
{{ failure_reasons_query(period_function_window(), 'delivery', by_domain=true) }}
