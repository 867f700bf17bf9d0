-- One row per delivery x UTC hour x reason kind x failure type x reason code x recipient
-- domain with exclusion, error or bounce events: how many. The grain behind the reason
-- breakdowns and non-deliverables of any period (period_non_deliverables_between).
-- Incremental: a delivery-hour with a newly loaded failure is re-counted whole.
{%- set hour_text = 'cast(' ~ dbt.date_trunc('hour', 'event_ts') ~ ' as ' ~ dbt.type_string() ~ ')' %}
{%- set key_parts = [] %}
{%- for part in ['campaign_id', 'execution_id', 'channel', hour_text] %}{% do key_parts.extend([part, "'|'"]) %}{% endfor %}
{{ config(
    materialized='incremental',
    unique_key='delivery_hour_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    tags=['serving'],
) }}

{%- if is_incremental() %}
{%- set watermark = load_watermark() %}
{#- The earliest hour with a newly loaded failure: every failure to re-count is in it or
    later, so the scan of history starts there (zone maps skip the older row groups). #}
{%- set earliest_touched_hour = constant_timestamp(
    'select min(' ~ dbt.date_trunc('hour', 'event_ts') ~ ') from ' ~ ref('int_failure_events')
    ~ ' where _loaded_at > ' ~ watermark,
    fallback='cast(null as ' ~ dbt.type_timestamp() ~ ')',
) if execute else 'null' %}
{%- endif %}

with

failures as (
    select * from {{ ref('int_failure_events') }}
    {%- if is_incremental() %}
    where event_ts >= {{ earliest_touched_hour }}
    {%- endif %}
),

{% if is_incremental() -%}
-- Its own import, filtered at the scan (see fct_message_hours).
new_failures as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour
    from {{ ref('int_failure_events') }}
    where _loaded_at > {{ watermark }}
),

touched_delivery_hours as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        activity_hour
    from new_failures
),

failures_to_count as (
    select failures.*
    from failures
    inner join touched_delivery_hours
        on
            failures.campaign_id = touched_delivery_hours.campaign_id
            and failures.execution_id = touched_delivery_hours.execution_id
            and failures.channel = touched_delivery_hours.channel
            and {{ dbt.date_trunc('hour', 'failures.event_ts') }} = touched_delivery_hours.activity_hour
),
{% else %}
failures_to_count as (
    select * from failures
),
{% endif %}

final as (
    select
        {{ dbt.hash(dbt.concat(key_parts)) }} as delivery_hour_key,
        campaign_id,
        execution_id,
        channel,
        {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour,
        {{ partition_date_column(dbt.date_trunc('hour', 'event_ts'), 'activity_date') }}
        reason_kind,
        failure_type,
        reason,
        recipient_domain,
        min(reason_label) as reason_label,
        min(reason_category) as reason_category,
        count(*) as events,
        max(_loaded_at) as last_loaded_at
    from failures_to_count
    group by
        campaign_id,
        execution_id,
        channel,
        {{ dbt.date_trunc('hour', 'event_ts') }},
        reason_kind,
        failure_type,
        reason,
        recipient_domain
)

-- A full build writes the rows in hour order: the live marts read the 24-hour window's
-- whole hours with a constant filter on activity_hour, and zone maps (DuckDB) skip every
-- older row group only when the hours are stored in order. Incremental runs append
-- mostly recent hours, which keeps the order nearly so.
select * from final
{%- if not is_incremental() %}
order by activity_hour
{%- endif %}
