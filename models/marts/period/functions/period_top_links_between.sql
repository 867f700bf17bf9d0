{{ config(materialized='table_function') }}

-- period_top_links for any range: select * from marts.period_top_links_between(start, end)
{{ top_links_query(period_function_window(), 'delivery') }}
