-- Every raw offer proposition row, typed, validated and deduplicated
-- (see base_raw__message_feedback_events).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}

with

source as (
    select * from {{ source('raw', 'offer_propositions') }}
    {{ new_loads_filter() }}
),

cleaned as (
    select
        -- ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('execution_id') }} as execution_id,
        {{ clean_text('message_id') }} as message_id,
        {{ clean_text('profile_id') }} as profile_id,
        {{ clean_text('offer_id') }} as offer_id,
        -- enumerations
        {{ clean_enum('channel') }} as channel,
        -- timestamps as received
        {{ clean_text('event_ts') }} as event_ts_text,
        {{ clean_text('ingested_at') }} as ingested_at_text,
        -- load metadata
        _load_id,
        _source_file,
        _loaded_at
    from source
),

typed as (
    select
        *,
        {{ parse_utc_timestamp('event_ts_text') }} as event_ts,
        {{ parse_utc_timestamp('ingested_at_text') }} as ingested_at
    from cleaned
),

validated as {{ materialized_cte(not is_incremental()) }} (
    select
        *,
        nullif(concat_ws(
            ',',
            {{ event_rejection_checks([
                'event_id',
                'event_ts',
                'campaign_id',
                'execution_id',
                'message_id',
                'profile_id',
                'channel',
                'offer_id'
            ]) }},
            case when channel not in ({{ sql_string_list(var('channels')) }}) then 'invalid_channel' end
        ), '') as validation_reasons,
        {{ content_hash([
            'event_ts',
            'campaign_id',
            'execution_id',
            'message_id',
            'profile_id',
            'channel',
            'offer_id'
        ]) }} as content_hash
    from typed
),

{% if is_incremental() -%}
ranked as (
    select
        validated.*,
        {{ dedup_rank_columns('event_id', relation='validated', earlier='existing_winners' if is_incremental() else none) }}
    from validated
    {%- if is_incremental() %}
    left join {{ dedup_staged_winners('validated') }} as existing_winners
        on
            validated.event_id = existing_winners.event_id
            and validated.validation_reasons is null
    {%- endif %}
),
{% else -%}
-- A full build ranks only the event ids that have copies (dedup_ranked_full_build).
{{ dedup_ranked_full_build('validated', 'event_id') }},
{% endif %}

final as (
    select
        event_id,
        campaign_id,
        execution_id,
        message_id,
        profile_id,
        offer_id,
        channel,
        event_ts_text,
        ingested_at_text,
        event_ts,
        ingested_at,
        _load_id,
        _source_file,
        _loaded_at,
        content_hash,
        {{ dedup_status_columns() }}
    from ranked
    -- Each appended batch is stored in event time order, so the window filters of the live
    -- and period marts skip whole row groups (DuckDB zone maps).
    order by event_ts
)

select * from final
