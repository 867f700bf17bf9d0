-- Every raw feedback row, typed and normalised, with its validation outcome and its
-- deduplication status. stg_raw__message_feedback_events keeps the staged rows,
-- stg_raw__rejected_rows the rejected ones; reconciliation counts all three statuses.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}

with

source as (
    select * from {{ source('raw', 'message_feedback_events') }}
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
        {{ clean_text('experiment_id') }} as experiment_id,
        {{ clean_text('treatment_id') }} as treatment_id,
        -- names, as written
        {{ clean_text('experiment_name') }} as experiment_name,
        {{ clean_text('treatment_name') }} as treatment_name,
        -- enumerations
        {{ clean_enum('channel') }} as channel,
        {{ clean_enum('status') }} as status,
        {{ clean_enum('failure_type') }} as failure_type,
        {{ clean_enum('reason') }} as reason,
        {{ clean_enum('platform') }} as platform,
        -- pii, hashed below and never selected past this model in clear
        {{ clean_text('recipient_address') }} as recipient_address,
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
        {{ hash_pii('recipient_address') }} as recipient_address_hash,
        case
            when channel = 'email' and recipient_address like '%@%'
                then lower({{ dbt.split_part('recipient_address', "'@'", -1) }})
        end as recipient_domain
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
                'status'
            ]) }},
            case when channel not in ({{ sql_string_list(var('channels')) }}) then 'invalid_channel' end,
            case when status not in ('excluded', 'error', 'sent', 'delivered', 'bounce', 'retry') then 'invalid_status' end,
            case when failure_type not in ('hard', 'soft', 'ignored') then 'invalid_failure_type' end,
            case when status = 'bounce' and failure_type is null then 'missing_failure_type' end,
            case when status in ('excluded', 'error', 'bounce') and reason is null then 'missing_reason' end,
            case when {{ malformed_id('experiment_id') }} then 'invalid_experiment_id' end,
            case when {{ malformed_id('treatment_id') }} then 'invalid_treatment_id' end
        ), '') as validation_reasons,
        {{ content_hash([
            'event_ts',
            'campaign_id',
            'execution_id',
            'message_id',
            'profile_id',
            'channel',
            'status',
            'failure_type',
            'reason',
            'recipient_address_hash',
            'platform',
            'experiment_id',
            'experiment_name',
            'treatment_id',
            'treatment_name'
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
        channel,
        status,
        failure_type,
        reason,
        platform,
        recipient_address_hash,
        recipient_domain,
        experiment_id,
        experiment_name,
        treatment_id,
        treatment_name,
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
