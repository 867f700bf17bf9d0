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
-- Its own import, filtered at the scan (see fct_message_hours): the message hours derived
-- since the last run.
new_message_hours as (
    select message_key
    from {{ ref('fct_message_hours') }}
    where
        last_loaded_at > {{ load_watermark(lookback_minutes=var('incremental_lookback_minutes')) }}
),

-- Every hour of a re-derived message: its new hours gain its events, its older hours may
-- lose a one-hour message.
touched_delivery_hours as (
    select distinct
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour
    from message_hours
    where message_hours.message_key in (select new_message_hours.message_key from new_message_hours)
),

hours_to_aggregate as (
    select message_hours.*
    from message_hours
    inner join touched_delivery_hours
        on
            message_hours.campaign_id = touched_delivery_hours.campaign_id
            and message_hours.execution_id = touched_delivery_hours.execution_id
            and message_hours.channel = touched_delivery_hours.channel
            and message_hours.activity_hour = touched_delivery_hours.activity_hour
    where message_hours.activity_hour >= (select min(touched_delivery_hours.activity_hour) from touched_delivery_hours)
),

several_hour_message_hours as (
    select
        message_hours.message_key,
        message_hours.last_loaded_at
    from message_hours
    where
        message_hours.message_hour_count > 1
        and message_hours.message_key in (
            select hours_to_aggregate.message_key
            from hours_to_aggregate
            where hours_to_aggregate.message_hour_count > 1
        )
),
{% else %}
hours_to_aggregate as (
    select * from message_hours
),

several_hour_message_hours as (
    select
        message_key,
        last_loaded_at
    from message_hours
    where message_hour_count > 1
),
{% endif %}

-- The newest load of each message active in several hours, over all its hours (a one-hour
-- message's is its row's own).
message_loads as (
    select
        message_key,
        max(last_loaded_at) as message_last_loaded_at
    from several_hour_message_hours
    group by message_key
),

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
        max(coalesce(message_loads.message_last_loaded_at, message_hours.last_loaded_at)) as last_loaded_at
    from hours_to_aggregate as message_hours
    left join message_loads
        on message_hours.message_key = message_loads.message_key
    group by
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour
)

select * from final
