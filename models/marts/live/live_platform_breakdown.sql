-- One row per delivery x platform (ios, android, web; 'unknown' when the message has
-- none) with events in the live window. Serves the push "breakdown by platform" widget
-- (filter channel = 'push'); the platforms sum to the delivery's totals (tested).
{{ message_breakdown_query(live_report_window(), 'platform', 'delivery') }}
