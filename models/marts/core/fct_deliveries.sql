-- One row per delivery: campaign x execution x channel, over all history.
-- depends_on: {{ ref('fct_delivery_hours') }}
{{ config(
    materialized='incremental',
    unique_key='delivery_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

{%- if is_incremental() %}
{#- The deliveries to re-derive (see touched_deliveries below), as a query of its own: the
    model reads it, and so does the constant that bounds the scans. fct_messages is read
    on its own here, filtered at the scan by the watermark (a constant): a reference to
    the model's all_messages would make the engine materialise every message first. #}
{%- set watermark = load_watermark(lookback_minutes=var('incremental_lookback_minutes')) %}
{%- set touched_deliveries_sql -%}
select
    message_load_times.campaign_id,
    message_load_times.execution_id,
    message_load_times.channel
from {{ ref('fct_messages') }} as message_load_times
where message_load_times.last_loaded_at > {{ watermark }}

union

select
    coalesce(quarantines_now.campaign_id, quarantines_before.campaign_id) as campaign_id,
    coalesce(quarantines_now.execution_id, quarantines_before.execution_id) as execution_id,
    coalesce(quarantines_now.channel, quarantines_before.channel) as channel
from (
    select
        quarantines.campaign_id,
        quarantines.execution_id,
        quarantines.channel,
        count(*) as new_quarantines
    from {{ ref('fct_recipient_quarantines') }} as quarantines
    group by quarantines.campaign_id, quarantines.execution_id, quarantines.channel
) as quarantines_now
full outer join (
    select
        processed.campaign_id,
        processed.execution_id,
        processed.channel,
        processed.new_quarantines
    from {{ this }} as processed
) as quarantines_before
    on
        quarantines_now.campaign_id = quarantines_before.campaign_id
        and quarantines_now.execution_id = quarantines_before.execution_id
        and quarantines_now.channel = quarantines_before.channel
where coalesce(quarantines_now.new_quarantines, 0) != coalesce(quarantines_before.new_quarantines, 0)
{%- endset %}
{#- The earliest first hour of a touched delivery. A touched delivery missing from
    fct_delivery_hours (it cannot be: that parent is built first; this only keeps the bound
    safe) turns the bound off; with no touched delivery at all nothing is read. #}
{%- set earliest_touched_hour = constant_timestamp(
    'select case when count(*) > count(delivery_hours.first_hour) then ' ~ "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ')'
    ~ ' else min(delivery_hours.first_hour) end from (' ~ touched_deliveries_sql ~ ') as touched'
    ~ ' left join (select campaign_id, execution_id, channel, min(activity_hour) as first_hour from '
    ~ ref('fct_delivery_hours') ~ ' group by campaign_id, execution_id, channel) as delivery_hours'
    ~ ' on delivery_hours.campaign_id = touched.campaign_id and delivery_hours.execution_id = touched.execution_id'
    ~ ' and delivery_hours.channel = touched.channel',
    fallback="cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")",
) if execute else "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" %}
{%- endif %}

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
-- Re-derive every delivery with a message re-derived since the last run, and every
-- delivery whose new_quarantines changed (a late hard bounce can move an address's
-- first-ever hard bounce to another delivery).
touched_deliveries as (
    {{ touched_deliveries_sql | indent(4) }}
),

-- Every message and link-click hour of a touched delivery is at or after the delivery's
-- first active hour, which fct_delivery_hours (built before this model: it is a parent)
-- holds with every event so far, late ones included. The earliest of the touched
-- deliveries' first hours, a constant, bounds both scans: fct_messages (a full build
-- writes it in first_event_at order; re-derived messages are appended last) and
-- fct_link_click_hours (in hour order) skip the row groups before it, so the cost follows
-- how far back the touched deliveries reach, not the length of the history.
messages as (
    select all_messages.*
    from all_messages
    inner join touched_deliveries
        on
            all_messages.campaign_id = touched_deliveries.campaign_id
            and all_messages.execution_id = touched_deliveries.execution_id
            and all_messages.channel = touched_deliveries.channel
    where all_messages.first_event_at >= {{ earliest_touched_hour }}
),

link_clicks as (
    select all_link_clicks.*
    from all_link_clicks
    inner join touched_deliveries
        on
            all_link_clicks.campaign_id = touched_deliveries.campaign_id
            and all_link_clicks.execution_id = touched_deliveries.execution_id
            and all_link_clicks.channel = touched_deliveries.channel
    where all_link_clicks.activity_hour >= {{ earliest_touched_hour }}
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
