{{ config(materialized='table_function', arguments=['period_start', 'period_end', "report_timezone := 'UTC'"]) }}

-- period_engagement_daily for any range, days in any IANA zone (default UTC):
-- select * from marts.period_engagement_daily_between(start, end, report_timezone := 'Europe/Paris')
{{ engagement_daily_query(period_report_window('period_start', 'period_end'), 'report_timezone') }}
