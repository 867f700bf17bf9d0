with

base as (
    select * from {{ ref('base_raw__message_tracking_events') }}
),

staged as (
    select
        -- ids
        event_id,
        campaign_id,
        execution_id,
        message_id,
        profile_id,
        element_id,
        offer_id,
        -- strings
        channel,
        interaction,
        platform,
        url,
        user_agent,
        is_bot,
        -- timestamps
        event_ts,
        ingested_at,
        _loaded_at
    from base
    where row_status = 'staged'
)

select * from staged
