-- One row per delivery (campaign x execution x channel) with any valid event in the live
-- window; every count of the contract over the window's events, and its rates.
with

messages as (
    select * from {{ ref('int_messages_in_live_window') }}
),

first_hard_bounces as (
    select * from {{ ref('int_recipients_first_hard_bounced') }}
    where {{ in_live_window('quarantined_at') }}
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
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end,
        -- counts and rates
        {{ delivery_statistics_columns() }}
    from deliveries_started
)

select * from final
