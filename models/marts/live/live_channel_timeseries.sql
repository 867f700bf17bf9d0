-- One row per campaign x channel of live_channel_statistics x clock hour of the live
-- window (empty hours as zeros): the 24-hour charts of a channel tab of the campaign report.
{{ live_hourly_series_query('channel') }}
