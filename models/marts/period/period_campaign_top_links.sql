-- One row per campaign x channel x clicked URL in the period window, ranked per campaign
-- tab. The same query as period_campaign_top_links_between(period_start, period_end).
{{ top_links_query(period_vars_window(), 'channel') }}
