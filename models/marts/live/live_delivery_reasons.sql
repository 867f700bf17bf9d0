-- One row per delivery x reason kind (exclusion, error, bounce) x failure type x reason
-- code with events in the live window: counts and their share of the delivery's
-- exclusions, errors or bounces. Serves the reason widgets and bounce categories.
{{ failure_reasons_query(live_report_window(), 'delivery') }}
