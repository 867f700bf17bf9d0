-- Every raw tracking row, typed and normalised, with its validation outcome and its
-- deduplication status (see base_raw__message_feedback_events).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}

with

source as (
    select * from {{ source('raw', 'message_tracking_events') }}
    {{ new_loads_filter() }}
),

channel_interactions as (
    select * from {{ ref('channel_interactions') }}
),

cleaned as (
    select
        -- ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('execution_id') }} as execution_id,
        {{ clean_text('message_id') }} as message_id,
        {{ clean_text('profile_id') }} as profile_id,
        {{ clean_text('element_id') }} as element_id,
        {{ clean_text('offer_id') }} as offer_id,
        -- enumerations
        {{ clean_enum('channel') }} as channel,
        {{ clean_enum('interaction') }} as interaction,
        {{ clean_enum('platform') }} as platform,
        -- strings
        {{ clean_text('url') }} as url,
        {{ clean_text('user_agent') }} as user_agent,
        {{ clean_enum('is_bot') }} as is_bot_text,
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
        {{ parse_utc_timestamp('ingested_at_text') }} as ingested_at,
        case
            when is_bot_text in ('true', '1', 'yes') then true
            when is_bot_text in ('false', '0', 'no') then false
        end as is_bot
    from cleaned
),

-- The seed is the one list of which interactions each channel can have.
typed_with_capabilities as (
    select
        typed.*,
        typed.interaction in (select known.interaction from channel_interactions as known) as is_known_interaction,
        channel_interactions.interaction is not null as is_allowed_for_channel
    from typed
    left join channel_interactions
        on
            typed.channel = channel_interactions.channel
            and typed.interaction = channel_interactions.interaction
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
                'interaction'
            ]) }},
            case when channel not in ({{ sql_string_list(var('channels')) }}) then 'invalid_channel' end,
            case when not is_known_interaction then 'invalid_interaction' end,
            case
                when channel in ({{ sql_string_list(var('channels')) }}) and is_known_interaction and not is_allowed_for_channel
                    then 'interaction_not_allowed_for_channel'
            end,
            case when {{ malformed_url('url') }} then 'invalid_url' end,
            case when is_bot_text is not null and is_bot is null then 'invalid_is_bot' end
        ), '') as validation_reasons,
        {{ content_hash([
            'event_ts',
            'campaign_id',
            'execution_id',
            'message_id',
            'profile_id',
            'channel',
            'interaction',
            'url',
            'element_id',
            'offer_id',
            'platform',
            'user_agent',
            'is_bot'
        ]) }} as content_hash
    from typed_with_capabilities
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
        element_id,
        offer_id,
        channel,
        interaction,
        platform,
        url,
        user_agent,
        is_bot,
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
