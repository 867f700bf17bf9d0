-- Live counts never exceed period counts when the period covers the live window (with the
-- default period, all history, it always does). Retries are left out: a message still
-- queued at the live window's end may be delivered later inside the period.
-- Tagged cross_report: the live refresh, which rebuilds the live marts but not the period
-- ones, leaves it to the full build.
{{ config(tags=['cross_report']) }}
{%- set counts = ['targeted', 'excluded', 'errors', 'sent', 'delivered', 'bounces', 'opens', 'unique_opens',
    'estimated_unique_opens', 'clicks', 'unique_clicks', 'unsubscriptions', 'spam_complaints', 'impressions',
    'unique_impressions', 'interactions', 'actions', 'engagements', 'offers_sent', 'new_quarantines', 'audience'] %}

with

live as (
    select * from {{ ref('live_delivery_statistics') }}
),

period as (
    select * from {{ ref('period_delivery_report') }}
),

compared as (
    select
        live.campaign_id,
        live.execution_id,
        live.channel,
        {%- for count in counts %}
        live.{{ count }} as live_{{ count }},
        coalesce(period.{{ count }}, 0) as period_{{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from live
    left join period
        on
            live.campaign_id = period.campaign_id
            and live.execution_id = period.execution_id
            and live.channel = period.channel
    -- The period covers the live window: (start, end] within [period_start, period_end).
    where
        {{ in_period_window(live_report_window().start) }}
        and {{ in_period_window(live_report_window().end) }}
)

select *
from compared
where
    {% for count in counts -%}
    live_{{ count }} > period_{{ count }}{% if not loop.last %} or {% endif %}
    {% endfor %}
