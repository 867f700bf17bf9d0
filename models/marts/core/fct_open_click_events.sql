-- One row per valid open and click (tracking events): human or machine, and the rule that
-- made it a machine's (machine_rule, null for a human's; macros/machine_rules.sql, docs/
-- decisions.md "Machine opens and clicks"). The one classification every report's
-- human_* figures read: fct_message_hours, fct_link_click_hours and the live window's
-- edge hours take an event's class from here by event_id.
-- Each rule looks at most machine_seconds_after_send() back and one second around the
-- event, so an incremental run re-classifies the message-hours with a newly loaded open or
-- click, and those a newly loaded send reaches (its hour and the hour N seconds later).
{%- set seconds = machine_seconds_after_send() %}
{#- The soon_after_send rule's bucket: N seconds in microseconds (1 s when the rule is off). #}
{%- set width = [seconds, 1] | max * 1000000 %}
{%- set send_bucket = 'cast(floor(' ~ epoch_microseconds('sends.event_ts') ~ ' / ' ~ width ~ ') as bigint)' %}
{%- set event_bucket = 'cast(floor(' ~ epoch_microseconds('events_to_classify.event_ts') ~ ' / ' ~ width ~ ') as bigint)' %}
{%- set key_parts = [] %}
{%- for part in ['campaign_id', 'execution_id', 'channel', 'message_id', 'cast(activity_hour as ' ~ dbt.type_string() ~ ')'] %}
{%- do key_parts.extend([part, "'|'"]) %}
{%- endfor %}
{%- set message_keys = ['campaign_id', 'execution_id', 'channel', 'message_id'] %}
{{ config(
    materialized='incremental',
    unique_key='message_hour_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

{%- if is_incremental() %}
{%- set watermark = load_watermark() %}
{%- set new_hours_sql -%}
    select {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour from {{ ref('int_events_unioned') }}
    where _loaded_at > {{ watermark }} and event_source = 'tracking' and event_type in ('open', 'click')
    union all
    select {{ dbt.date_trunc('hour', 'event_ts') }} from {{ ref('int_events_unioned') }}
    where _loaded_at > {{ watermark }} and event_source = 'feedback' and event_type = 'sent'
{%- endset %}
{#- The earliest hour to re-classify: every open or click whose class may change is in it
    or later, so the scans of history start there (zone maps skip older row groups). #}
{%- set earliest_touched_hour = constant_timestamp(
    'select min(activity_hour) from (' ~ new_hours_sql ~ ') as touched',
    fallback='cast(null as ' ~ dbt.type_timestamp() ~ ')',
) if execute else 'null' %}
{%- endif %}

with

opens_and_clicks as (
    select * from {{ ref('int_events_unioned') }}
    where
        event_source = 'tracking'
        and event_type in ('open', 'click')
    {%- if is_incremental() %}
        and event_ts >= {{ earliest_touched_hour }}
    {%- endif %}
),

sends as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_ts
    from {{ ref('int_events_unioned') }}
    where
        event_source = 'feedback'
        and event_type = 'sent'
        and channel in ('email', 'sms')
    {%- if is_incremental() %}
        and event_ts >= {{ dbt.dateadd('second', -1 * seconds, earliest_touched_hour) }}
    {%- endif %}
),

{% if is_incremental() -%}
-- The message-hours whose opens and clicks are re-classified: those with a newly loaded
-- open or click, and those a newly loaded send can reach (the rule soon_after_send).
new_events as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_source,
        event_ts
    from {{ ref('int_events_unioned') }}
    where
        _loaded_at > {{ watermark }}
        and (
            (event_source = 'tracking' and event_type in ('open', 'click'))
            or (event_source = 'feedback' and event_type = 'sent')
        )
),

touched_message_hours as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour
    from new_events
    union
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ dbt.date_trunc('hour', dbt.dateadd('second', seconds, 'event_ts')) }} as activity_hour
    from new_events
    where event_source = 'feedback'
),

events_to_classify as (
    select opens_and_clicks.*
    from opens_and_clicks
    inner join touched_message_hours
        on
            opens_and_clicks.campaign_id = touched_message_hours.campaign_id
            and opens_and_clicks.execution_id = touched_message_hours.execution_id
            and opens_and_clicks.channel = touched_message_hours.channel
            and opens_and_clicks.message_id = touched_message_hours.message_id
            and {{ dbt.date_trunc('hour', 'opens_and_clicks.event_ts') }} = touched_message_hours.activity_hour
),
{% else %}
events_to_classify as (
    select * from opens_and_clicks
),
{% endif %}

-- Seconds in which a message had two or more distinct URLs clicked: a scanner following
-- every link, not a reader (rule link_burst). A second lies in one hour, so the touched
-- hours hold all of its clicks.
link_bursts as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ dbt.date_trunc('second', 'event_ts') }} as burst_second
    from events_to_classify
    where event_type = 'click'
    group by campaign_id, execution_id, channel, message_id, {{ dbt.date_trunc('second', 'event_ts') }}
    having count(distinct url) > 1
),

-- Opens and clicks at most N seconds after a send of their message (rule soon_after_send),
-- compared in microseconds (exact on every engine). An equi-join on the message and an
-- N-second bucket, then the exact range: a send in bucket b reaches events of buckets b
-- and b + 1 only, so every engine hashes the join (a range join alone gave PostgreSQL a
-- nested loop, minutes on 100k events).
shifts as (
    select 0 as shift
    union all
    select 1 as shift
),

send_buckets as (
    select
        sends.campaign_id,
        sends.execution_id,
        sends.channel,
        sends.message_id,
        {{ epoch_microseconds('sends.event_ts') }} as sent_us,
        {{ send_bucket }} + shifts.shift as bucket
    from sends
    cross join shifts
),

after_send as (
    select events_to_classify.event_id
    from events_to_classify
    inner join send_buckets
        on
            events_to_classify.campaign_id = send_buckets.campaign_id
            and events_to_classify.execution_id = send_buckets.execution_id
            and events_to_classify.channel = send_buckets.channel
            and events_to_classify.message_id = send_buckets.message_id
            and {{ event_bucket }} = send_buckets.bucket
            and {{ epoch_microseconds('events_to_classify.event_ts') }} >= send_buckets.sent_us
            and {{ epoch_microseconds('events_to_classify.event_ts') }} <= send_buckets.sent_us + {{ width }}
    group by events_to_classify.event_id
),

classified as (
    select
        events_to_classify.*,
        {{ dbt.date_trunc('hour', 'events_to_classify.event_ts') }} as activity_hour,
        {{ machine_rule_expression(
            'events_to_classify',
            'link_bursts.burst_second is not null',
            'after_send.event_id is not null',
        ) | indent(8) }} as machine_rule
    from events_to_classify
    left join link_bursts
        on
            events_to_classify.campaign_id = link_bursts.campaign_id
            and events_to_classify.execution_id = link_bursts.execution_id
            and events_to_classify.channel = link_bursts.channel
            and events_to_classify.message_id = link_bursts.message_id
            and {{ dbt.date_trunc('second', 'events_to_classify.event_ts') }} = link_bursts.burst_second
    left join after_send
        on events_to_classify.event_id = after_send.event_id
),

final as (
    select
        -- ids
        event_id,
        {{ dbt.hash(dbt.concat(key_parts[:-1])) }} as message_hour_key,
        campaign_id,
        execution_id,
        channel,
        message_id,
        -- the event
        event_type,
        url,
        user_agent,
        is_bot,
        event_ts,
        activity_hour,
        {{ partition_date_column('activity_hour', 'activity_date') }}
        -- the class
        machine_rule,
        machine_rule is not null as is_machine,
        _loaded_at as last_loaded_at
    from classified
)

-- Hour order on a full build (zone maps skip the hours a reader does not ask for).
select * from final
{%- if not is_incremental() %}
order by activity_hour
{%- endif %}
