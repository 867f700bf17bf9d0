-- One row per message x clicked URL x user agent x UTC hour with clicks: how many. The grain
-- behind the top links of any period (period_top_links_between: distinct clickers of a link
-- are distinct messages over the whole range) and the estimated forwards (distinct user
-- agents per clicking message). A click without a URL counts as 'unknown'; human_clicks
-- leaves out the clicks fct_open_click_events classifies as a machine's.
-- Incremental: a message-hour with a newly loaded click is re-counted whole, and so is
-- one a newly loaded send reaches (its class may change: rule soon_after_send).
{%- set hour_text = 'cast(' ~ dbt.date_trunc('hour', 'event_ts') ~ ' as ' ~ dbt.type_string() ~ ')' %}
{%- set key_parts = [] %}
{%- for part in ['campaign_id', 'execution_id', 'channel', 'message_id', hour_text] %}{% do key_parts.extend([part, "'|'"]) %}{% endfor %}
{{ config(
    materialized='incremental',
    unique_key='message_hour_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    tags=['serving'],
) }}

{%- if is_incremental() %}
{%- set watermark = load_watermark() %}
{#- The earliest hour with a newly loaded click: every click to re-count is in it or
    later, so the scan of history starts there (zone maps skip the older row groups). #}
{%- set earliest_touched_hour = constant_timestamp(
    'select min(' ~ dbt.date_trunc('hour', 'event_ts') ~ ') from ' ~ ref('int_events_unioned')
    ~ " where ((event_source = 'tracking' and event_type = 'click') or (event_source = 'feedback' and event_type = 'sent'))"
    ~ " and _loaded_at > " ~ watermark,
    fallback='cast(null as ' ~ dbt.type_timestamp() ~ ')',
) if execute else 'null' %}
{%- endif %}

with

clicks as (
    select * from {{ ref('int_events_unioned') }}
    where
        event_source = 'tracking'
        and event_type = 'click'
    {%- if is_incremental() %}
        and event_ts >= {{ earliest_touched_hour }}
    {%- endif %}
),

{% if is_incremental() -%}
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
        ((event_source = 'tracking' and event_type = 'click') or (event_source = 'feedback' and event_type = 'sent'))
        and _loaded_at > {{ watermark }}
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
        {{ dbt.date_trunc('hour', dbt.dateadd('second', machine_seconds_after_send(), 'event_ts')) }} as activity_hour
    from new_events
    where event_source = 'feedback'
),

clicks_to_count as (
    select clicks.*
    from clicks
    inner join touched_message_hours
        on
            clicks.campaign_id = touched_message_hours.campaign_id
            and clicks.execution_id = touched_message_hours.execution_id
            and clicks.channel = touched_message_hours.channel
            and clicks.message_id = touched_message_hours.message_id
            and {{ dbt.date_trunc('hour', 'clicks.event_ts') }} = touched_message_hours.activity_hour
),
{% else %}
clicks_to_count as (
    select * from clicks
),
{% endif %}

-- Each click with its class (fct_open_click_events).
classified_clicks as (
    select * from {{ events_with_machine_rule(
        'clicks_to_count',
        "event_type = 'click' and event_ts >= " ~ earliest_touched_hour if is_incremental() else "event_type = 'click'",
    ) }} as clicks_with_class
),

final as (
    select
        {{ dbt.hash(dbt.concat(key_parts)) }} as message_hour_key,
        campaign_id,
        execution_id,
        channel,
        message_id,
        coalesce(url, 'unknown') as url,
        user_agent,
        {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour,
        {{ partition_date_column(dbt.date_trunc('hour', 'event_ts'), 'activity_date') }}
        count(*) as clicks,
        {{ count_where('machine_rule is null') }} as human_clicks,
        max(_loaded_at) as last_loaded_at
    from classified_clicks
    group by
        campaign_id,
        execution_id,
        channel,
        message_id,
        coalesce(url, 'unknown'),
        user_agent,
        {{ dbt.date_trunc('hour', 'event_ts') }}
)

-- A full build writes the rows in hour order: the live marts read the 24-hour window's
-- whole hours with a constant filter on activity_hour, and zone maps (DuckDB) skip every
-- older row group only when the hours are stored in order. Incremental runs append
-- mostly recent hours, which keeps the order nearly so.
select * from final
{%- if not is_incremental() %}
order by activity_hour
{%- endif %}
