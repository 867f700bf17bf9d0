-- With no period var set the period is all history, and int_messages_in_period_window
-- reads fct_messages instead of re-aggregating events: then period_delivery_report must
-- equal fct_deliveries, delivery by delivery and count by count. With a bounded period
-- there is nothing to compare (the test selects no row); pytest builds without period
-- vars to exercise it (tests/python/test_dbt_boundaries.py).
{{ config(tags=['cross_report', 'full_check']) }}
{%- set counts = ['messages', 'audience', 'targeted', 'excluded', 'errors', 'sent', 'delivered', 'bounces',
    'hard_bounces', 'soft_bounces', 'ignored_bounces', 'retries', 'opens', 'unique_opens', 'estimated_unique_opens',
    'clicks', 'unique_clicks', 'unsubscriptions', 'spam_complaints', 'mirror_page_views', 'forwards', 'impressions',
    'unique_impressions', 'dismissals', 'other_interactions', 'interactions', 'actions', 'engagements',
    'offers_sent', 'new_quarantines'] %}

with

period as (
    select * from {{ ref('period_delivery_report') }}
),

history as (
    select * from {{ ref('fct_deliveries') }}
),

compared as (
    select
        coalesce(period.campaign_id, history.campaign_id) as campaign_id,
        coalesce(period.execution_id, history.execution_id) as execution_id,
        coalesce(period.channel, history.channel) as channel,
        {%- for count in counts %}
        period.{{ count }} as period_{{ count }},
        history.{{ count }} as history_{{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from period
    full outer join history
        on
            period.campaign_id = history.campaign_id
            and period.execution_id = history.execution_id
            and period.channel = history.channel
    where {{ period_is_unbounded() }}
)

select *
from compared
where
    {% for count in counts -%}
    period_{{ count }} is distinct from history_{{ count }}{% if not loop.last %} or {% endif %}
    {% endfor %}
