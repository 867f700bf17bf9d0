-- One row per delivery of the period report (the vars period_start and period_end): the
-- contract's counts beside the numbers the platform's own report (Adobe Journey Optimizer)
-- shows for the same events where the two count differently, so a user comparing the two
-- reports sees why they differ. The contract's columns keep their definitions
-- (docs/decisions.md, "AJO layout: figures that differ from the platform's report").
{{ config(tags=['period']) }}

with

deliveries as (
    select
        campaign_id,
        execution_id,
        channel,
        period_start,
        period_end,
        excluded,
        sent,
        delivered,
        bounces
    from {{ ref('period_delivery_report') }}
),

failure_hours as (
    select
        campaign_id,
        execution_id,
        channel,
        activity_hour,
        reason,
        events
    from {{ ref('fct_failure_hours') }}
    where reason_kind = 'exclusion' and reason in ('denylisted', 'duplicate')
),

exclusions_counted_in_window as (
    select
        deliveries.campaign_id,
        deliveries.execution_id,
        deliveries.channel,
        sum(case when failure_hours.reason = 'denylisted' then failure_hours.events else 0 end) as denylisted_exclusions,
        sum(case when failure_hours.reason = 'duplicate' then failure_hours.events else 0 end) as duplicate_exclusions
    from deliveries
    inner join failure_hours
        on
            deliveries.campaign_id = failure_hours.campaign_id
            and deliveries.execution_id = failure_hours.execution_id
            and deliveries.channel = failure_hours.channel
            and (deliveries.period_start is null or deliveries.period_start <= failure_hours.activity_hour)
            and (deliveries.period_end is null or deliveries.period_end > failure_hours.activity_hour)
    group by
        deliveries.campaign_id,
        deliveries.execution_id,
        deliveries.channel
),

counts_compared as (
    select
        deliveries.campaign_id,
        deliveries.execution_id,
        deliveries.channel,
        deliveries.period_start,
        deliveries.period_end,
        deliveries.sent,
        deliveries.delivered,
        deliveries.sent as platform_delivered,
        deliveries.bounces,
        cast(coalesce(exclusions_counted_in_window.denylisted_exclusions, 0) as bigint) as denylisted_exclusions,
        cast(deliveries.bounces + coalesce(exclusions_counted_in_window.denylisted_exclusions, 0) as bigint)
            as platform_bounces,
        deliveries.excluded,
        cast(coalesce(exclusions_counted_in_window.duplicate_exclusions, 0) as bigint) as duplicate_exclusions,
        cast(
            deliveries.excluded
            - coalesce(exclusions_counted_in_window.denylisted_exclusions, 0)
            - coalesce(exclusions_counted_in_window.duplicate_exclusions, 0)
            as bigint
        ) as platform_exclusions
    from deliveries
    left join exclusions_counted_in_window
        on
            deliveries.campaign_id = exclusions_counted_in_window.campaign_id
            and deliveries.execution_id = exclusions_counted_in_window.execution_id
            and deliveries.channel = exclusions_counted_in_window.channel
)

select * from counts_compared
