-- One row per delivery x UTC clock hour in which any of its messages has a valid event,
-- rolled up from fct_message_hours: what the period_*_between functions add up over a
-- range of whole hours instead of rolling every message up. Event counts, first and last
-- times add up across hours exactly. A message-kind count (distinct messages meeting a
-- condition) is kept for the messages whose FIRST active hour this is, evaluated on the
-- message's row over all history (fct_messages): a range holding a message's first and
-- last hours counts it exactly so, so a report adds these up and rolls up only the
-- messages a bound of its range cuts (see delivery_report_query). single_hour_profiles
-- counts the profiles (audience) whose targeting rows all fall in this hour; the others
-- are listed in fct_delivery_profile_spans.
--
-- last_loaded_at is the newest load of any event of a message active in the hour (or of a
-- profile spanning several hours targeted in it), not only of its events in this hour: a
-- late event in another hour of a message changes this row, and the row must then look
-- newly loaded to the incremental watermark and to the publish, which sync by it.
-- hour_last_loaded_at is the newest load of the events in this hour (what a report shows).
{%- set hour_text = 'cast(message_hours.activity_hour as ' ~ dbt.type_string() ~ ')' %}
{%- set key_parts = [] %}
{%- for part in ['message_hours.campaign_id', 'message_hours.execution_id', 'message_hours.channel', hour_text] %}
{%- if not loop.first %}{% do key_parts.append("'|'") %}{% endif %}
{%- do key_parts.append(part) %}
{%- endfor %}
{%- if is_incremental() %}
{%- set watermark = load_watermark(lookback_minutes=var('incremental_lookback_minutes')) %}
{#- The profiles whose targeting rows changed (targeting_row_changed). #}
{%- set touched_profiles_sql -%}
select distinct campaign_id, execution_id, channel, targeted_profile_id
from {{ ref('fct_message_hours') }}
where {{ targeting_row_changed(watermark) }}
{%- endset %}
{#- Every delivery hour to re-count is at or after the earliest hour of a message re-derived
    since the last run, or, for a touched profile's older targeting hours, its delivery's
    first hour so far (this table's, a small read). #}
{%- set earliest_touched_hour = constant_timestamp(
    'select min(touched_hour) from ('
    ~ ' select min(activity_hour) as touched_hour from ' ~ ref('fct_message_hours') ~ ' where message_last_loaded_at > ' ~ watermark
    ~ ' union all'
    ~ ' select min(delivery_hours.activity_hour) as touched_hour from ' ~ this ~ ' as delivery_hours'
    ~ ' inner join (' ~ touched_profiles_sql ~ ') as touched_profiles'
    ~ ' on delivery_hours.campaign_id = touched_profiles.campaign_id and delivery_hours.execution_id = touched_profiles.execution_id'
    ~ ' and delivery_hours.channel = touched_profiles.channel'
    ~ ') as touched_hours',
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

all_messages as (
    select * from {{ ref('fct_messages') }}
),

{% if is_incremental() -%}
-- Its own import, filtered at the scan (see fct_messages): every hour of the messages
-- re-derived since the last run (each hour row carries its message's newest load time,
-- so all their hours pass; they were written last and zone maps skip the rest). Their
-- new hours gain their events, their older hours may lose a first-hour message.
touched_delivery_hours as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        activity_hour
    from {{ ref('fct_message_hours') }}
    where message_last_loaded_at > {{ watermark }}

    union

    -- Every targeting hour of a profile whose targeting rows changed: the profile may now
    -- span several hours, and stop counting in its older hour's single_hour_profiles.
    select
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour
    from message_hours
    inner join (
        {{ touched_profiles_sql | indent(8) }}
    ) as touched_profiles
        on
            message_hours.campaign_id = touched_profiles.campaign_id
            and message_hours.execution_id = touched_profiles.execution_id
            and message_hours.channel = touched_profiles.channel
            and message_hours.targeted_profile_id = touched_profiles.targeted_profile_id
    where message_hours.activity_hour >= {{ earliest_touched_hour }}
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

-- A message's first_event_at is in its first active hour, so the messages first active in
-- a touched hour are at or after the bound (fct_messages is in first_event_at order).
messages as (
    select * from all_messages
    where first_event_at >= {{ earliest_touched_hour }}
),
{% else %}
hours_to_aggregate as (
    select * from message_hours
),

messages as (
    select * from all_messages
),
{% endif %}

-- The messages whose first active hour is one of the hours aggregated, as over all
-- history (their fct_messages row), by that first hour.
first_hour_rows as (
    select
        first_hour_keys.activity_hour as first_hour,
        messages.*
    from (
        select
            message_key,
            activity_hour
        from hours_to_aggregate
        where activity_hour = message_first_hour
    ) as first_hour_keys
    inner join messages
        on first_hour_keys.message_key = messages.message_key
),

first_hour_messages as (
    select
        campaign_id,
        execution_id,
        channel,
        first_hour as activity_hour,
        {%- for metric in report_metrics_of_kind('message') %}
        {{ count_where(metric.condition) }} as first_hour_{{ metric.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from first_hour_rows
    group by campaign_id, execution_id, channel, first_hour
),

-- The profiles targeted in several hours (a profile's targeting rows: see
-- fct_delivery_profile_spans), with the newest load of their messages.
profile_spans as (
    select
        campaign_id,
        execution_id,
        channel,
        targeted_profile_id,
        last_loaded_at
    from {{ ref('fct_delivery_profile_spans') }}
    where first_hour is not null
),

-- The distinct profiles of each hour whose every targeting row is in that hour.
hour_profiles as (
    select
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour,
        count(distinct case when profile_spans.targeted_profile_id is null then message_hours.targeted_profile_id end)
            as single_hour_profiles,
        max(profile_spans.last_loaded_at) as profile_last_loaded_at
    from hours_to_aggregate as message_hours
    left join profile_spans
        on
            message_hours.campaign_id = profile_spans.campaign_id
            and message_hours.execution_id = profile_spans.execution_id
            and message_hours.channel = profile_spans.channel
            and message_hours.targeted_profile_id = profile_spans.targeted_profile_id
    where
        message_hours.targeted_profile_id is not null
        and message_hours.message_targeted_hours = 1
    group by
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour
),

hours_aggregated as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(key_parts)) }} as delivery_hour_key,
        message_hours.campaign_id,
        message_hours.execution_id,
        message_hours.channel,
        message_hours.activity_hour,
        {%- for metric in event_count_metrics() %}
        {{ sum_count('message_hours.' ~ metric.name) }} as {{ metric.name }},
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
),

final as (
    select
        hours_aggregated.delivery_hour_key,
        hours_aggregated.campaign_id,
        hours_aggregated.execution_id,
        hours_aggregated.channel,
        hours_aggregated.activity_hour,
        {{ partition_date_column('hours_aggregated.activity_hour', 'activity_date') }}
        -- event counts of every message active in the hour
        {%- for metric in event_count_metrics() %}
        hours_aggregated.{{ metric.name }},
        {%- endfor %}
        -- message-kind counts of the messages whose first active hour this is
        {%- for metric in report_metrics_of_kind('message') %}
        coalesce(first_hour_messages.first_hour_{{ metric.name }}, 0) as first_hour_{{ metric.name }},
        {%- endfor %}
        coalesce(hour_profiles.single_hour_profiles, 0) as single_hour_profiles,
        hours_aggregated.message_hours,
        -- timestamps
        hours_aggregated.first_event_at,
        hours_aggregated.last_event_at,
        hours_aggregated.first_feedback_at,
        hours_aggregated.hour_last_loaded_at,
        case
            when hour_profiles.profile_last_loaded_at > hours_aggregated.last_loaded_at then hour_profiles.profile_last_loaded_at
            else hours_aggregated.last_loaded_at
        end as last_loaded_at
    from hours_aggregated
    left join first_hour_messages
        on
            hours_aggregated.campaign_id = first_hour_messages.campaign_id
            and hours_aggregated.execution_id = first_hour_messages.execution_id
            and hours_aggregated.channel = first_hour_messages.channel
            and hours_aggregated.activity_hour = first_hour_messages.activity_hour
    left join hour_profiles
        on
            hours_aggregated.campaign_id = hour_profiles.campaign_id
            and hours_aggregated.execution_id = hour_profiles.execution_id
            and hours_aggregated.channel = hour_profiles.channel
            and hours_aggregated.activity_hour = hour_profiles.activity_hour
)

-- A full build writes the rows in hour order: a period window reads a range of whole
-- hours with a constant filter on activity_hour, and zone maps (DuckDB) skip the row
-- groups outside it only when the hours are stored in order. Incremental runs append
-- mostly recent hours, which keeps the order nearly so.
select * from final
{%- if not is_incremental() %}
order by activity_hour
{%- endif %}
