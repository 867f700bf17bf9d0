-- One row per delivery (campaign x execution x channel) with any valid event in the period
-- window of the vars period_start and period_end: the delivery report. The same query as
-- period_delivery_report_between(period_start, period_end).
{{ delivery_report_query(period_vars_window(), 'delivery') }}
