-- One row per delivery x day (in var report_timezone) from the delivery's first to its
-- last day with opens, clicks, unsubscriptions or complaints in the period window. The same
-- query as period_engagement_daily_between(period_start, period_end, report_timezone).
{{ engagement_daily_query(period_vars_window()) }}
