-- One row per delivery x clicked URL in the period window, ranked. The same query as
-- period_top_links_between(period_start, period_end).
{{ top_links_query(period_vars_window(), 'delivery') }}
