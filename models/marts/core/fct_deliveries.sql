-- One row per delivery: campaign x execution x channel, over all history.
with

messages as (
    select * from {{ ref('fct_messages') }}
),

first_hard_bounces as (
    select * from {{ ref('int_recipients_first_hard_bounced') }}
),

deliveries_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ delivery_metric_aggregates() }}
    from messages
    group by campaign_id, execution_id, channel
),

quarantines_per_delivery as (
    select
        campaign_id,
        execution_id,
        channel,
        count(*) as new_quarantines
    from first_hard_bounces
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

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(["campaign_id", "'|'", "execution_id", "'|'", "channel"])) }} as delivery_key,
        campaign_id,
        execution_id,
        channel,
        -- timestamps
        coalesce(first_feedback_at, first_event_at) as execution_started_at,
        last_event_at,
        -- counts
        messages,
        audience,
        targeted,
        excluded,
        errors,
        sent,
        delivered,
        bounces,
        hard_bounces,
        soft_bounces,
        ignored_bounces,
        retries,
        opens,
        unique_opens,
        estimated_unique_opens,
        clicks,
        unique_clicks,
        unsubscriptions,
        spam_complaints,
        mirror_page_views,
        forwards,
        impressions,
        unique_impressions,
        dismissals,
        other_interactions,
        interactions,
        actions,
        engagements,
        offers_sent,
        new_quarantines,
        -- rates
        {{ delivery_rates() }},
        {{ safe_divide('new_quarantines', 'sent') }} as new_quarantine_rate
    from deliveries_derived
)

select * from final
