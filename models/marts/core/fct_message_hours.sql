-- One row per message x UTC clock hour in which it has at least one valid event: what the
-- message did in that hour (message_activity_columns). The grain behind any-period reports
-- (period_*_between): a range of whole hours rolls these rows up per message, so unique
-- counts stay distinct messages over the whole range. An hour row is small (a message has
-- about two active hours), and late events touch few of them.
{%- set attributes = ['profile_id', 'recipient_address_hash', 'recipient_domain', 'platform'] %}
{%- set key_parts = [] %}
{%- for column in ['campaign_id', 'execution_id', 'channel', 'message_id'] %}
{%- if not loop.first %}{% do key_parts.append("'|'") %}{% endif %}
{%- do key_parts.append('message_hours_aggregated.' ~ column) %}
{%- endfor %}
{{ config(
    materialized='incremental',
    unique_key='message_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

{%- if is_incremental() %}
{%- set watermark = load_watermark(lookback_minutes=var('incremental_lookback_minutes')) %}
{%- set message_key_sql = dbt.hash(dbt.concat(
    ['new_events.campaign_id', "'|'", 'new_events.execution_id', "'|'", 'new_events.channel', "'|'", 'new_events.message_id']
)) %}
{#- The earliest event of any message touched by the new loads: its earliest new event, or
    its first hour already in this table (every event of a message loaded before the
    watermark is counted in one of its hours here). All the events to re-aggregate are at
    or after it, so the scan of history starts there and zone maps skip the older row
    groups: the cost follows how far back the touched messages reach (a late event reaches
    back to its message's first hour), not the length of the history. #}
{%- set earliest_touched_event = constant_timestamp(
    'with new_events as (select campaign_id, execution_id, channel, message_id, event_ts from '
    ~ ref('int_events_unioned') ~ ' where _loaded_at > ' ~ watermark ~ '), '
    ~ 'touched as (select distinct ' ~ message_key_sql ~ ' as message_key from new_events) '
    ~ 'select least((select min(event_ts) from new_events), (select min(processed.activity_hour) from '
    ~ this ~ ' as processed where processed.message_key in (select touched.message_key from touched)))',
    fallback='cast(null as ' ~ dbt.type_timestamp() ~ ')',
) if execute else 'null' %}
{%- endif %}

with

events as (
    select * from {{ ref('int_events_unioned') }}
    {%- if is_incremental() %}
    where event_ts >= {{ earliest_touched_event }}
    {%- endif %}
),

{% if is_incremental() -%}
-- Its own import, filtered at the scan: referencing `events` twice would make the engine
-- materialise every event of history before filtering.
new_events as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id
    from {{ ref('int_events_unioned') }}
    where
        _loaded_at > {{ watermark }}
),

-- Every message with an event loaded since the last run (minus an optional lookback) is
-- re-derived from all of its events, whenever they happened: a bounce or an open that
-- arrives days late updates exactly the message it belongs to (all its hours, since the
-- message's attributes are on every hour row).
touched_messages as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        message_id
    from new_events
),

events_to_aggregate as (
    select events.*
    from events
    inner join touched_messages
        on
            events.campaign_id = touched_messages.campaign_id
            and events.execution_id = touched_messages.execution_id
            and events.channel = touched_messages.channel
            and events.message_id = touched_messages.message_id
),
{% else %}
events_to_aggregate as (
    select * from events
),
{% endif %}

-- Each open and click with its class (fct_open_click_events): the human_* counts.
classified_events as (
    select * from {{ events_with_machine_rule(
        'events_to_aggregate',
        'event_ts >= ' ~ earliest_touched_event if is_incremental() else 'true',
    ) }} as events_with_class
),

message_hours_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour,
        {{ message_event_aggregates() }}
    from classified_events
    group by campaign_id, execution_id, channel, message_id, {{ dbt.date_trunc('hour', 'event_ts') }}
),

-- The message's attributes over all its hours (its profile, address, domain, platform),
-- so that a breakdown of any window by domain or platform uses the message's own value;
-- its number of hours, which lets fct_messages take a one-hour message's row as it
-- is; and its newest load time, on every hour row, which lets fct_messages read exactly
-- the hours of the messages re-derived in a run (written last: zone maps skip the rest).
-- Its first and last active hour and its number of hours with a targeting event let the
-- period_*_between functions add up pre-aggregates for the messages and profiles wholly
-- inside a range and roll up only those a range cuts (see delivery_report_query).
-- A group-by joined back costs about 30% less than the same as window functions.
message_attributes as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        min(profile_id) as profile_id,
        max(recipient_address_hash) as recipient_address_hash,
        max(recipient_domain) as recipient_domain,
        max(platform) as platform,
        count(*) as message_hour_count,
        min(activity_hour) as message_first_hour,
        max(activity_hour) as message_last_hour,
        count(targeted_profile_id) as message_targeted_hours,
        max(last_loaded_at) as message_last_loaded_at
    from message_hours_aggregated
    group by campaign_id, execution_id, channel, message_id
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(key_parts)) }} as message_key,
        message_hours_aggregated.campaign_id,
        message_hours_aggregated.execution_id,
        message_hours_aggregated.channel,
        message_hours_aggregated.message_id,
        message_hours_aggregated.activity_hour,
        {{ partition_date_column('message_hours_aggregated.activity_hour', 'activity_date') }}
        {% for column in message_activity_columns() if column not in attributes -%}
        message_hours_aggregated.{{ column }},
        {% endfor -%}
        message_attributes.profile_id,
        message_attributes.recipient_address_hash,
        message_attributes.recipient_domain,
        message_attributes.platform,
        message_attributes.message_hour_count,
        message_attributes.message_first_hour,
        message_attributes.message_last_hour,
        message_attributes.message_targeted_hours,
        message_attributes.message_last_loaded_at
    from message_hours_aggregated
    inner join message_attributes
        on
            message_hours_aggregated.campaign_id = message_attributes.campaign_id
            and message_hours_aggregated.execution_id = message_attributes.execution_id
            and message_hours_aggregated.channel = message_attributes.channel
            and message_hours_aggregated.message_id = message_attributes.message_id
)

-- A full build writes the rows in hour order: the live marts read the 24-hour window's
-- whole hours with a constant filter on activity_hour, and zone maps (DuckDB) skip every
-- older row group only when the hours are stored in order. Incremental runs append
-- mostly recent hours, which keeps the order nearly so.
select * from final
{%- if not is_incremental() %}
order by activity_hour
{%- endif %}
