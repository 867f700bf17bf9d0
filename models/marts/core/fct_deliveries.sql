-- One row per delivery: campaign x execution x channel, over all history.
{{ config(
    materialized='incremental',
    unique_key='delivery_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

all_messages as (
    select * from {{ ref('fct_messages') }}
),

first_hard_bounces as (
    select * from {{ ref('fct_recipient_quarantines') }}
),

all_link_clicks as (
    select * from {{ ref('fct_link_click_hours') }}
),

{% if is_incremental() -%}
-- fct_messages imported twice on purpose: a second reference to all_messages would make
-- the engine materialise every message before filtering.
message_load_times as (
    select
        campaign_id,
        execution_id,
        channel,
        last_loaded_at
    from {{ ref('fct_messages') }}
),

-- Re-derive every delivery with a message re-derived since the last run, and every
-- delivery whose new_quarantines changed (a late hard bounce can move an address's
-- first-ever hard bounce to another delivery).
quarantines_now as (
    select
        campaign_id,
        execution_id,
        channel,
        count(*) as new_quarantines
    from first_hard_bounces
    group by campaign_id, execution_id, channel
),

quarantines_before as (
    select
        campaign_id,
        execution_id,
        channel,
        new_quarantines
    from {{ this }}
),

touched_deliveries as (
    select
        campaign_id,
        execution_id,
        channel
    from message_load_times
    where
        last_loaded_at > {{ load_watermark(lookback_minutes=var('incremental_lookback_minutes')) }}

    union

    select
        coalesce(quarantines_now.campaign_id, quarantines_before.campaign_id) as campaign_id,
        coalesce(quarantines_now.execution_id, quarantines_before.execution_id) as execution_id,
        coalesce(quarantines_now.channel, quarantines_before.channel) as channel
    from quarantines_now
    full outer join quarantines_before
        on
            quarantines_now.campaign_id = quarantines_before.campaign_id
            and quarantines_now.execution_id = quarantines_before.execution_id
            and quarantines_now.channel = quarantines_before.channel
    where coalesce(quarantines_now.new_quarantines, 0) != coalesce(quarantines_before.new_quarantines, 0)
),

messages as (
    select all_messages.*
    from all_messages
    inner join touched_deliveries
        on
            all_messages.campaign_id = touched_deliveries.campaign_id
            and all_messages.execution_id = touched_deliveries.execution_id
            and all_messages.channel = touched_deliveries.channel
),

link_clicks as (
    select all_link_clicks.*
    from all_link_clicks
    inner join touched_deliveries
        on
            all_link_clicks.campaign_id = touched_deliveries.campaign_id
            and all_link_clicks.execution_id = touched_deliveries.execution_id
            and all_link_clicks.channel = touched_deliveries.channel
),
{% else %}
messages as (
    select * from all_messages
),

link_clicks as (
    select * from all_link_clicks
),
{% endif %}

deliveries_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ delivery_metric_aggregates() }}
    from messages
    group by campaign_id, execution_id, channel
),

quarantines_counted as (
    select
        campaign_id,
        execution_id,
        channel,
        count(*) as new_quarantines
    from first_hard_bounces
    group by campaign_id, execution_id, channel
),

forwards_estimated as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ estimated_forwards_aggregate() }} as estimated_forwards
    from link_clicks
    group by campaign_id, execution_id, channel
),

deliveries_joined as (
    select
        deliveries_aggregated.*,
        coalesce(quarantines_counted.new_quarantines, 0) as new_quarantines,
        coalesce(forwards_estimated.estimated_forwards, 0) as estimated_forwards
    from deliveries_aggregated
    left join quarantines_counted
        on
            deliveries_aggregated.campaign_id = quarantines_counted.campaign_id
            and deliveries_aggregated.execution_id = quarantines_counted.execution_id
            and deliveries_aggregated.channel = quarantines_counted.channel
    left join forwards_estimated
        on
            deliveries_aggregated.campaign_id = forwards_estimated.campaign_id
            and deliveries_aggregated.execution_id = forwards_estimated.execution_id
            and deliveries_aggregated.channel = forwards_estimated.channel
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
        last_loaded_at,
        -- counts and rates
        {{ delivery_statistics_columns() }}
    from deliveries_derived
)

select * from final
