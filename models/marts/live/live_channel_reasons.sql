-- One row per campaign x channel x reason kind x failure type x reason code with events in
-- the live window: the reason charts and tables of a channel tab of the campaign report.
{{ failure_reasons_query(live_report_window(), 'channel') }}
