-- One row per recipient address (hashed) that ever hard-bounced: its first-ever hard
-- bounce (earliest event_ts, then smallest event_id), i.e. when and in which delivery it
-- entered quarantine. new_quarantines counts these rows per delivery and window.
-- Incremental: only the hard bounces loaded since the last run are read, each ranked
-- against its address's current first bounce (this table's row): the first of the two is
-- the first-ever, so a late hard bounce that happened earlier moves the address exactly
-- as a full rebuild would, and the cost follows the new loads, not the history.
{{ config(
    materialized='incremental',
    unique_key='recipient_address_hash',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

feedback as (
    select * from {{ ref('stg_raw__message_feedback_events') }}
    {%- if is_incremental() %}
    where _loaded_at > {{ load_watermark() }}
    {%- endif %}
),

hard_bounces as (
    select
        recipient_address_hash,
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_id,
        event_ts,
        _loaded_at
    from feedback
    where
        status = 'bounce'
        and failure_type = 'hard'
        and recipient_address_hash is not null
),

{% if is_incremental() -%}
-- The current first bounce of every address with a new hard bounce.
current_first_bounces as (
    select
        recipient_address_hash,
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_id,
        quarantined_at as event_ts,
        last_loaded_at as _loaded_at
    from {{ this }}
    where recipient_address_hash in (select new_bounces.recipient_address_hash from hard_bounces as new_bounces)
),

candidates as (
    select * from hard_bounces
    union all
    select * from current_first_bounces
),
{% else %}
candidates as (
    select * from hard_bounces
),
{% endif %}

hard_bounces_ranked as (
    select
        *,
        row_number() over (partition by recipient_address_hash order by event_ts, event_id) as bounce_number,
        max(_loaded_at) over (partition by recipient_address_hash) as last_loaded_at
    from candidates
),

final as (
    select
        recipient_address_hash,
        campaign_id,
        execution_id,
        channel,
        message_id,
        event_id,
        event_ts as quarantined_at,
        last_loaded_at
    from hard_bounces_ranked
    where bounce_number = 1
)

select * from final
