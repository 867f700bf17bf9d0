-- One row per delivery (campaign x execution x channel) with any valid event in the period
-- window: the live report's counts and rates plus the period report's audience and
-- execution statistics.
with

messages as (
    select * from {{ ref('int_messages_in_period_window') }}
),

first_hard_bounces as (
    select * from {{ ref('int_recipients_first_hard_bounced') }}
    where {{ in_period_window('quarantined_at') }}
),

delivery_starts as (
    select
        campaign_id,
        execution_id,
        channel,
        execution_started_at
    from {{ ref('fct_deliveries') }}
),

{{ delivery_rollup_ctes('messages', 'first_hard_bounces') }}

deliveries_started as (
    select
        deliveries_derived.*,
        delivery_starts.execution_started_at
    from deliveries_derived
    inner join delivery_starts
        on
            deliveries_derived.campaign_id = delivery_starts.campaign_id
            and deliveries_derived.execution_id = delivery_starts.execution_id
            and deliveries_derived.channel = delivery_starts.channel
),

final as (
    select
        -- ids
        campaign_id,
        execution_id,
        channel,
        -- timestamps
        execution_started_at,
        -- counts and rates
        {{ delivery_statistics_columns() }},
        -- period report: initial target audience and execution statistics
        targeted as initial_audience,
        excluded as rejected_by_rules,
        targeted - excluded as messages_to_deliver,
        delivered as success,
        {{ safe_divide('delivered', 'targeted - excluded') }} as success_rate,
        {{ safe_divide('errors', 'targeted - excluded') }} as error_rate,
        {{ safe_divide('new_quarantines', 'targeted - excluded') }} as new_quarantine_rate
    from deliveries_started
)

select * from final
