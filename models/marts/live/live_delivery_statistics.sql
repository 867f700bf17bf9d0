-- One row per delivery (campaign x execution x channel) with any valid event in the live
-- window: every count of the contract over the window's events, its rates, and the
-- execution statistics. The same query as the period delivery report, over the live window.
{{ delivery_report_query(live_report_window(), 'delivery') }}
