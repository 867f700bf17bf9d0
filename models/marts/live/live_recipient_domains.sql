-- One row per email delivery x recipient domain with events in the live window: the
-- delivery statistics of the domain's messages (domain over all history). Serves "best
-- recipient domains" (order by unique_opens) and per-domain statistics.
{{ message_breakdown_query(live_report_window(), 'recipient_domain', 'delivery', channel='email') }}
