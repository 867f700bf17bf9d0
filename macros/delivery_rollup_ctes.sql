{#- The CTE chain from message-level rows to delivery statistics, shared by fct_deliveries
    (all history) and the live and period marts (events of their window), so the three
    count every metric the same way. Emits the CTEs deliveries_aggregated,
    quarantines_per_delivery, deliveries_joined and deliveries_derived (each followed by a
    comma): the caller's import CTEs must define `messages_cte` (message_metric_aggregates'
    columns) and `first_hard_bounces_cte` (int_recipients_first_hard_bounced rows already
    restricted to the window). -#}
{% macro delivery_rollup_ctes(messages_cte, first_hard_bounces_cte) -%}
deliveries_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ delivery_metric_aggregates() }}
    from {{ messages_cte }}
    group by campaign_id, execution_id, channel
),

quarantines_per_delivery as (
    select
        campaign_id,
        execution_id,
        channel,
        count(*) as new_quarantines
    from {{ first_hard_bounces_cte }}
    group by campaign_id, execution_id, channel
),

deliveries_joined as (
    select
        deliveries_aggregated.*,
        coalesce(quarantines_per_delivery.new_quarantines, 0) as new_quarantines
    from deliveries_aggregated
    left join quarantines_per_delivery
        on
            deliveries_aggregated.campaign_id = quarantines_per_delivery.campaign_id
            and deliveries_aggregated.execution_id = quarantines_per_delivery.execution_id
            and deliveries_aggregated.channel = quarantines_per_delivery.channel
),

deliveries_derived as (
    select
        *,
        {{ delivery_derived_metrics() }}
    from deliveries_joined
),
{%- endmacro %}

{#- The delivery statistics every delivery-grain mart exposes, in one order: counts of the
    contract, then its rates. Select from deliveries_derived. -#}
{% macro delivery_statistics_columns() -%}
    {%- set counts = [
        'messages', 'audience', 'targeted', 'excluded', 'errors', 'sent', 'delivered', 'bounces',
        'hard_bounces', 'soft_bounces', 'ignored_bounces', 'retries', 'opens', 'unique_opens',
        'estimated_unique_opens', 'clicks', 'unique_clicks', 'unsubscriptions', 'spam_complaints',
        'mirror_page_views', 'forwards', 'impressions', 'unique_impressions', 'dismissals',
        'other_interactions', 'interactions', 'actions', 'engagements', 'offers_sent', 'new_quarantines'
    ] -%}
    {%- for column in counts %}
    {{ column }},
    {%- endfor %}
    {{ delivery_rates() }}
{%- endmacro %}
