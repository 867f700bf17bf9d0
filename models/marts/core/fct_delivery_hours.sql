-- One row per delivery x UTC clock hour in which any of its messages has a valid event,
-- rolled up from fct_message_hours: what the period_*_between functions can add up over
-- a range of hours instead of rolling every message up. Event counts, first and last
-- times add up across hours exactly; a message-kind count (distinct messages meeting a
-- condition) adds up only for the messages whose every event falls in this one hour
-- (message_hour_count = 1: their hour row is their row in any window holding the hour),
-- kept here as one_hour_<metric>; the messages active in several hours are rolled up at
-- query time (see delivery_report_query). Distinct profiles (audience) never add up and
-- are counted at query time.
--
-- last_loaded_at is the newest load of any event of a message active in the hour, not
-- only of its events in this hour: a late event in another hour of a message changes this
-- row (the message is no longer a one-hour message), and the row must then look newly
-- loaded to the incremental watermark and to the publish, which sync by it.
-- hour_last_loaded_at is the newest load of the events in this hour (what a report shows).
{%- set hour_text = 'cast(message_hours.activity_hour as ' ~ dbt.type_string() ~ ')' %}
{%- set key_parts = [] %}
{%- for part in ['message_hours.campaign_id', 'message_hours.execution_id', 'message_hours.channel', hour_text] %}
{%- if not loop.first %}{% do key_parts.append("'|'") %}{% endif %}
{%- do key_parts.append(part) %}
{%- endfor %}
{%- if is_incremental() %}
{%- set watermark = load_watermark(lookback_minutes=var('incremental_lookback_minutes')) %}
{#- The earliest hour of a message re-derived since the last run: every delivery hour to
    re-count is at or after it. #}
{%- set earliest_touched_hour = constant_timestamp(
    'select min(activity_hour) from ' ~ ref('fct_message_hours') ~ ' where message_last_loaded_at > ' ~ watermark,
    fallback="cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")",
) if execute else "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" %}
{%- endif %}
{{ config(
    materialized='incremental',
    unique_key='delivery_hour_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    tags=['serving'],
) }}

with

message_hours as (
    select * from {{ ref('fct_message_hours') }}
),

{% if is_incremental() -%}
-- Its own import, filtered at the scan (see fct_messages): every hour of the messages
-- re-derived since the last run (each hour row carries its message's newest load time,
-- so all their hours pass; they were written last and zone maps skip the rest). Their
-- new hours gain their events, their older hours may lose a one-hour message.
touched_delivery_hours as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        activity_hour
    from {{ ref('fct_message_hours') }}
    where message_last_loaded_at > {{ watermark }}
),

-- Every message hour of a touched delivery hour, read from the earliest touched hour on
-- (a constant: a full build writes the hours in order, so zone maps skip the older row
-- groups).
hours_to_aggregate as (
    select message_hours.*
    from message_hours
    inner join touched_delivery_hours
        on
            message_hours.campaign_id = touched_delivery_hours.campaign_id
            and message_hours.execution_id = touched_delivery_hours.execution_id
            and message_hours.channel = touched_delivery_hours.channel
            and message_hours.activity_hour = touched_delivery_hours.activity_hour
    where message_hours.activity_hour >= {{ earliest_touched_hour }}
),
{% else %}
hours_to_aggregate as (
    select * from message_hours
),
{% endif %}

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(key_parts)) }} as delivery_hour_key,
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour,
        {{ partition_date_column('message_hours.activity_hour', 'activity_date') }}
        -- event counts of every message active in the hour
        {%- for metric in event_count_metrics() %}
        {{ sum_count('message_hours.' ~ metric.name) }} as {{ metric.name }},
        {%- endfor %}
        -- message-kind counts of the messages whose only active hour this is
        {%- for metric in report_metrics_of_kind('message') %}
        {{ count_where('message_hours.message_hour_count = 1 and (' ~ metric.condition ~ ')') }} as one_hour_{{ metric.name }},
        {%- endfor %}
        count(*) as message_hours,
        -- timestamps
        min(message_hours.first_event_at) as first_event_at,
        max(message_hours.last_event_at) as last_event_at,
        min(message_hours.first_feedback_at) as first_feedback_at,
        max(message_hours.last_loaded_at) as hour_last_loaded_at,
        -- the newest load of any event of a message active in the hour, in any hour
        -- (fct_message_hours carries it on every hour row of the message)
        max(message_hours.message_last_loaded_at) as last_loaded_at
    from hours_to_aggregate as message_hours
    group by
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour
)

-- A full build writes the rows in hour order: a period window reads a range of whole
-- hours with a constant filter on activity_hour, and zone maps (DuckDB) skip the row
-- groups outside it only when the hours are stored in order. Incremental runs append
-- mostly recent hours, which keeps the order nearly so.
select * from final
{%- if not is_incremental() %}
order by activity_hour
{%- endif %}
