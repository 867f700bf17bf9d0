{{ config(materialized='table_function') }}

-- period_engagement_daily for any range, days in any IANA zone (default UTC):
-- select * from marts.period_engagement_daily_between(start, end, report_timezone := 'Europe/Paris')
{{ engagement_daily_query(period_function_window()) }}
