-- One row per recipient address (hashed) that ever hard-bounced: its first-ever hard
-- bounce (earliest event_ts, then smallest event_id), i.e. when and in which delivery it
-- entered quarantine. new_quarantines counts these rows per delivery and window.
with

feedback as (
    select * from {{ ref('stg_raw__message_feedback_events') }}
),

hard_bounces_ranked as (
    select
        recipient_address_hash,
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_id,
        event_ts,
        row_number() over (partition by recipient_address_hash order by event_ts, event_id) as bounce_number
    from feedback
    where
        status = 'bounce'
        and failure_type = 'hard'
        and recipient_address_hash is not null
),

final as (
    select
        recipient_address_hash,
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_id,
        event_ts as quarantined_at
    from hard_bounces_ranked
    where bounce_number = 1
)

select * from final
