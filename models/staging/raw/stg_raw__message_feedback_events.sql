with

base as (
    select * from {{ ref('base_raw__message_feedback_events') }}
),

staged as (
    select
        -- ids
        event_id,
        campaign_id,
        execution_id,
        message_id,
        profile_id,
        -- strings
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
        -- timestamps
        event_ts,
        ingested_at,
        _loaded_at
    from base
    where row_status = 'staged'
)

select * from staged
