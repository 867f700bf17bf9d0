-- The current suppression list: one row per address (hashed) that its events leave
-- suppressed now, with the state, the rule and reason of the state in force, and since
-- when the address has been suppressed (suppressed_since) and in this state (state_since).
-- The history of every address is fct_address_suppression_states.

with

states as (
    select * from {{ ref('fct_address_suppression_states') }}
),

final as (
    select
        recipient_address_hash,
        recipient_domain,
        channel,
        state,
        suppression_category,
        suppression_rule,
        reason,
        suppressed_since,
        valid_from as state_since,
        release_due_at,
        suppression_state_id
    from states
    where
        is_current
        and state != 'active'
)

select * from final
