-- One row per campaign x channel with any valid event in the period window: the KPI tiles
-- and rates of each channel tab of the campaign report. The same query as
-- period_channel_report_between(period_start, period_end).
{{ delivery_report_query(period_vars_window(), 'channel') }}
