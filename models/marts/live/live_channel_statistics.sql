-- One row per campaign x channel with any valid event in the live window: the KPI tiles
-- and rates of each channel tab of the campaign live report, with the campaign's name.
{{ delivery_report_query(live_report_window(), 'channel') }}
