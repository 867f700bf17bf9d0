-- A campaign's funnel over the period window, per channel and execution: targeted ->
-- sent -> delivered -> opened -> clicked, with each step's conversion from the previous
-- (each a share of the messages that reached the step before: the report's rates).
-- dbt compile --select campaign_funnel --vars '{analysis_campaign_id: cmp_0001}'
with

deliveries as (
    select * from {{ ref('period_delivery_report') }}
    where campaign_id = {{ identifier_var('analysis_campaign_id', 'c1') }}
),

funnel as (
    select
        channel,
        execution_id,
        execution_started_at,
        targeted,
        sent,
        delivered,
        estimated_unique_opens,
        unique_clicks,
        {{ safe_divide('sent', 'targeted') }} as sent_of_targeted,
        delivered_rate as delivered_of_sent,
        open_rate as opened_of_delivered,
        reactivity as clicked_of_opened
    from deliveries
)

select * from funnel
order by channel, execution_started_at
