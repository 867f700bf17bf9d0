-- One row per delivery of live_delivery_statistics x clock hour of the live window
-- (hours with no event are present, as zeros): event counts per hour. Sums over the
-- hours equal the delivery's window totals (tested).
{{ live_hourly_series_query('delivery') }}
