-- One row per delivery x targeted profile whose targeting events fall in more than one UTC
-- hour (first_hour < last_hour): what the period_*_between delivery report needs to count
-- distinct profiles (audience) exactly without a distinct count over the range's messages.
-- A profile's "targeting rows" are the fct_message_hours rows with a targeting event
-- (targeted_profile_id not null) of its messages that have one such row
-- (message_targeted_hours = 1); a message with several is rolled up at query time. A profile
-- whose targeting rows are all in one hour is counted in that hour by fct_delivery_hours
-- (single_hour_profiles); the few listed here are counted when their span lies inside the
-- range, and checked against the range's rows when a bound cuts it.
--
-- last_loaded_at is the newest load of the profile's targeting rows.
--
-- Incremental: every profile whose targeting rows gained events is re-spanned from all its
-- targeting rows. A profile no longer spanning several hours (a message now with two targeting hours)
-- keeps its row with null hours, which no range counts, so that delete+insert replaces the
-- old span.
{%- set key_parts = [] %}
{%- for part in ['campaign_id', 'execution_id', 'channel', 'targeted_profile_id'] %}
{%- if not loop.first %}{% do key_parts.append("'|'") %}{% endif %}
{%- do key_parts.append('spans.' ~ part) %}
{%- endfor %}
{{ config(
    materialized='incremental',
    unique_key='delivery_profile_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    tags=['serving'],
) }}

with

message_hours as (
    select * from {{ ref('fct_message_hours') }}
),

targeting_rows as (
    select
        campaign_id,
        execution_id,
        channel,
        targeted_profile_id,
        activity_hour,
        last_loaded_at
    from message_hours
    where
        targeted_profile_id is not null
        and message_targeted_hours = 1
),

{% if is_incremental() -%}
-- Its own import, filtered at the scan: the profiles whose targeting rows changed since
-- the last run (targeting_row_changed: a late open or click touches no profile).
touched_profiles as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        targeted_profile_id
    from {{ ref('fct_message_hours') }}
    where {{ targeting_row_changed(load_watermark()) }}
),

rows_to_span as (
    select targeting_rows.*
    from targeting_rows
    inner join touched_profiles
        on
            targeting_rows.campaign_id = touched_profiles.campaign_id
            and targeting_rows.execution_id = touched_profiles.execution_id
            and targeting_rows.channel = touched_profiles.channel
            and targeting_rows.targeted_profile_id = touched_profiles.targeted_profile_id
),
{%- else %}
rows_to_span as (
    select * from targeting_rows
),
{%- endif %}

profiles_spanned as (
    select
        campaign_id,
        execution_id,
        channel,
        targeted_profile_id,
        min(activity_hour) as first_hour,
        max(activity_hour) as last_hour,
        max(last_loaded_at) as last_loaded_at
    from rows_to_span
    group by campaign_id, execution_id, channel, targeted_profile_id
),

{% if is_incremental() -%}
-- A listed profile that no longer spans several hours: its row is replaced by one with
-- null hours (no range counts it).
spans as (
    select
        touched_profiles.campaign_id,
        touched_profiles.execution_id,
        touched_profiles.channel,
        touched_profiles.targeted_profile_id,
        case when profiles_spanned.first_hour < profiles_spanned.last_hour then profiles_spanned.first_hour end as first_hour,
        case when profiles_spanned.first_hour < profiles_spanned.last_hour then profiles_spanned.last_hour end as last_hour,
        coalesce(profiles_spanned.last_loaded_at, {{ load_watermark() }}) as last_loaded_at
    from touched_profiles
    left join profiles_spanned
        on
            touched_profiles.campaign_id = profiles_spanned.campaign_id
            and touched_profiles.execution_id = profiles_spanned.execution_id
            and touched_profiles.channel = profiles_spanned.channel
            and touched_profiles.targeted_profile_id = profiles_spanned.targeted_profile_id
    where
        profiles_spanned.first_hour < profiles_spanned.last_hour
        or exists (
            select 1
            from {{ this }} as listed
            where
                listed.campaign_id = touched_profiles.campaign_id
                and listed.execution_id = touched_profiles.execution_id
                and listed.channel = touched_profiles.channel
                and listed.targeted_profile_id = touched_profiles.targeted_profile_id
        )
),
{%- else %}
spans as (
    select * from profiles_spanned
    where first_hour < last_hour
),
{%- endif %}

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(key_parts)) }} as delivery_profile_key,
        spans.campaign_id,
        spans.execution_id,
        spans.channel,
        spans.targeted_profile_id,
        -- timestamps
        spans.first_hour,
        spans.last_hour,
        spans.last_loaded_at
    from spans
)

select * from final
