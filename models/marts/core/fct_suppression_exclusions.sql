-- One row per exclusion event whose reason is a suppression (reason suppressed or
-- denylisted): the message the platform did not send because its address was on the
-- suppression list, linked to the state of fct_address_suppression_states in force at that
-- instant. An exclusion no state explains (is_explained false) was suppressed by what the
-- events do not show: an address added by hand or through the platform's API, Adobe's
-- global suppression list, or a suppression older than the loaded history.
-- A table: a late bounce can move an address's states, and with them old links.

with

feedback as (
    select * from {{ ref('stg_raw__message_feedback_events') }}
),

states as (
    select * from {{ ref('fct_address_suppression_states') }}
),

suppression_exclusions as (
    select
        event_id,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        recipient_address_hash,
        recipient_domain,
        event_ts,
        reason
    from feedback
    where
        status = 'excluded'
        and reason in ('suppressed', 'denylisted')
),

suppressed_states as (
    select
        suppression_state_id,
        recipient_address_hash,
        state,
        suppression_rule,
        suppressed_since,
        valid_from,
        valid_to
    from states
    where state != 'active'
),

final as (
    select
        suppression_exclusions.event_id,
        suppression_exclusions.campaign_id,
        suppression_exclusions.execution_id,
        suppression_exclusions.channel,
        suppression_exclusions.message_id,
        suppression_exclusions.profile_id,
        suppression_exclusions.recipient_address_hash,
        suppression_exclusions.recipient_domain,
        suppression_exclusions.event_ts as excluded_at,
        suppression_exclusions.reason as exclusion_reason,
        suppressed_states.suppression_state_id,
        suppressed_states.state as suppression_state,
        suppressed_states.suppression_rule,
        suppressed_states.suppressed_since,
        suppressed_states.suppression_state_id is not null as is_explained
    from suppression_exclusions
    left join suppressed_states
        on
            suppression_exclusions.recipient_address_hash = suppressed_states.recipient_address_hash
            and suppression_exclusions.event_ts >= suppressed_states.valid_from
            and (suppressed_states.valid_to is null or suppression_exclusions.event_ts < suppressed_states.valid_to)
)

select * from final
