-- One row per recipient address (hashed) and state interval: each address the events ever
-- suppressed, with its whole history, active, quarantined or denylisted, in time order and
-- never overlapping. The platform's rules (docs/decisions.md, "Suppression state"):
-- * a hard bounce quarantines the address at once (category hard);
-- * a spam complaint denylists it at once (category hard: the platform files complaints
--   with hard bounces);
-- * soft errors (soft bounces and retries) are counted per address; a successful delivery
--   resets the count; an error of another delivery counts only when it comes at least
--   var suppression_soft_error_spacing_hours (24) after the previous one; the
--   var suppression_soft_error_threshold-th (5) counted error quarantines the address
--   (category soft);
-- * a suppressed address is released when a message is sent to it again (the platform
--   excludes suppressed addresses before sending, so a send proves the address left the
--   list: removed by hand or through the platform's API, which the events do not carry);
-- * while suppressed, a stronger rule moves the address to its state (spam complaint over
--   hard bounce over soft errors); suppressed_since keeps the start of the suppression.
-- An address absent from this table was never suppressed by its events: it is active.
--
-- Incremental: the addresses whose events arrived since the last run and that are here or
-- have a new suppressing event (a hard bounce, a complaint, a soft error) are re-derived
-- from all their events; delete+insert on the address replaces their history.
{%- set threshold = suppression_soft_error_threshold() %}
{%- set spacing_hours = suppression_soft_error_spacing_hours() %}
{%- set release_days = suppression_soft_release_days() %}
{%- set suppressing_columns = [
    'recipient_address_hash', 'recipient_domain', 'channel', 'campaign_id', 'execution_id', 'message_id',
    'event_id', 'event_ts', 'event_kind', 'reason', 'sends_so_far',
] %}
{{ config(
    materialized='incremental',
    unique_key='recipient_address_hash',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

feedback as (
    select * from {{ ref('stg_raw__message_feedback_events') }}
),

spam_complaints as (
    select * from {{ ref('stg_raw__message_tracking_events') }}
    where interaction = 'spam_complaint'
),

messages as (
    select * from {{ ref('fct_messages') }}
),

-- The address events that move a state: sends (release), deliveries (reset the soft
-- count), hard bounces, soft errors and complaints (the complaint's address is its
-- message's).
address_feedback as (
    select
        recipient_address_hash,
        recipient_domain,
        channel,
        campaign_id,
        execution_id,
        message_id,
        event_id,
        event_ts,
        case
            when status = 'sent' then 'sent'
            when status = 'delivered' then 'delivered'
            when status = 'bounce' and failure_type = 'hard' then 'hard_bounce'
            when status = 'bounce' and failure_type = 'soft' then 'soft_error'
            when status = 'retry' and coalesce(failure_type, 'soft') = 'soft' then 'soft_error'
        end as event_kind,
        reason,
        _loaded_at
    from feedback
    where
        recipient_address_hash is not null
        and status in ('sent', 'delivered', 'bounce', 'retry')
),

complaint_events as (
    select
        messages.recipient_address_hash,
        messages.recipient_domain,
        spam_complaints.channel,
        spam_complaints.campaign_id,
        spam_complaints.execution_id,
        spam_complaints.message_id,
        spam_complaints.event_id,
        spam_complaints.event_ts,
        'spam_complaint' as event_kind,
        'spam_complaint' as reason,
        spam_complaints._loaded_at
    from spam_complaints
    inner join messages
        on
            spam_complaints.campaign_id = messages.campaign_id
            and spam_complaints.execution_id = messages.execution_id
            and spam_complaints.channel = messages.channel
            and spam_complaints.message_id = messages.message_id
    where messages.recipient_address_hash is not null
),

address_events_all as (
    select * from address_feedback
    where event_kind is not null
    union all
    select * from complaint_events
),

-- Only addresses that can be suppressed: a hard bounce, a complaint, or at least as many
-- soft errors as the threshold (fewer can never reach it).
candidate_addresses as (
    select recipient_address_hash
    from address_events_all
    {%- if is_incremental() %}
    where recipient_address_hash in (
        select new_events.recipient_address_hash
        from address_events_all as new_events
        where new_events._loaded_at > {{ load_watermark() }}
    )
    {%- endif %}
    group by recipient_address_hash
    having
        sum(case when event_kind in ('hard_bounce', 'spam_complaint') then 1 else 0 end) > 0
        or sum(case when event_kind = 'soft_error' then 1 else 0 end) >= {{ threshold }}
    {%- if is_incremental() %}
        or recipient_address_hash in (select processed.recipient_address_hash from {{ this }} as processed)
    {%- endif %}
),

address_events as (
    select
        *,
        -- A send sorts before anything else at the same instant: it cannot release a
        -- suppression that begins at that instant.
        case when event_kind = 'sent' then 0 else 1 end as tie_order
    from address_events_all
    where recipient_address_hash in (select candidate_addresses.recipient_address_hash from candidate_addresses)
),

events_numbered as (
    select
        *,
        -- Deliveries so far: soft errors between two deliveries are consecutive.
        sum(case when event_kind = 'delivered' then 1 else 0 end) over (
            partition by recipient_address_hash order by event_ts, tie_order, event_id rows between unbounded preceding and current row
        ) as deliveries_so_far,
        -- Sends so far: the suppressing events between two sends form one suppression,
        -- which the next send releases.
        sum(case when event_kind = 'sent' then 1 else 0 end) over (
            partition by recipient_address_hash order by event_ts, tie_order, event_id rows between unbounded preceding and current row
        ) as sends_so_far
    from address_events
),

soft_errors as (
    select
        *,
        lag(event_ts) over (
            partition by recipient_address_hash, deliveries_so_far order by event_ts, event_id
        ) as previous_error_at,
        lag({{ dbt.concat(['campaign_id', "'|'", 'execution_id', "'|'", 'channel']) }}) over (
            partition by recipient_address_hash, deliveries_so_far order by event_ts, event_id
        ) as previous_error_delivery
    from events_numbered
    where event_kind = 'soft_error'
),

soft_errors_counted as (
    select
        *,
        sum(
            case
                when previous_error_at is null then 1
                when previous_error_delivery = {{ dbt.concat(['campaign_id', "'|'", 'execution_id', "'|'", 'channel']) }} then 1
                -- In microseconds: Spark's dateadd drops the fraction of a second.
                when
                    {{ epoch_microseconds('event_ts') }} - {{ epoch_microseconds('previous_error_at') }}
                    >= {{ spacing_hours }} * cast(3600000000 as {{ dbt.type_bigint() }})
                    then 1
                else 0
            end
        ) over (
            partition by recipient_address_hash, deliveries_so_far
            order by event_ts, event_id rows between unbounded preceding and current row
        ) as consecutive_soft_errors
    from soft_errors
),

suppressing_events as (
    select
        {{ suppressing_columns | join(',\n        ') }},
        cast(null as {{ dbt.type_int() }}) as consecutive_soft_errors
    from events_numbered
    where event_kind in ('hard_bounce', 'spam_complaint')
    union all
    select
        {{ suppressing_columns | join(',\n        ') }},
        consecutive_soft_errors
    from soft_errors_counted
    where consecutive_soft_errors >= {{ threshold }}
),

suppressing_ranked as (
    select
        *,
        case event_kind when 'spam_complaint' then 3 when 'hard_bounce' then 2 else 1 end as strength
    from suppressing_events
),

-- A state begins at the first suppressing event after a send, and again at each
-- stronger one before the next send.
suppressing_strongest as (
    select
        *,
        max(strength) over (
            partition by recipient_address_hash, sends_so_far order by event_ts, event_id rows between unbounded preceding and 1 preceding
        ) as strength_before,
        min(event_ts) over (partition by recipient_address_hash, sends_so_far) as suppressed_since
    from suppressing_ranked
),

sends as (
    select
        recipient_address_hash,
        sends_so_far,
        event_ts as sent_at
    from events_numbered
    where event_kind = 'sent'
),

suppressed_states as (
    select
        suppressing.recipient_address_hash,
        case when suppressing.event_kind = 'spam_complaint' then 'denylisted' else 'quarantined' end as state,
        case suppressing.event_kind
            when 'spam_complaint' then 'spam_complaint'
            when 'hard_bounce' then 'hard_bounce'
            else 'soft_error_threshold'
        end as suppression_rule,
        case when suppressing.event_kind = 'soft_error' then 'soft' else 'hard' end as suppression_category,
        suppressing.reason,
        suppressing.event_ts as valid_from,
        suppressing.suppressed_since,
        releases.sent_at as released_at,
        suppressing.consecutive_soft_errors,
        suppressing.campaign_id,
        suppressing.execution_id,
        suppressing.message_id,
        suppressing.event_id,
        suppressing.strength
    from suppressing_strongest as suppressing
    left join sends as releases
        on
            suppressing.recipient_address_hash = releases.recipient_address_hash
            and releases.sends_so_far = suppressing.sends_so_far + 1
    where suppressing.strength_before is null or suppressing.strength > suppressing.strength_before
),

-- Active before the first suppression (from the address's first event) and after each
-- release (from the send), until the next suppression.
addresses as (
    select
        recipient_address_hash,
        min(recipient_domain) as recipient_domain,
        min(channel) as channel,
        min(event_ts) as first_event_at,
        max(_loaded_at) as last_loaded_at
    from address_events
    group by recipient_address_hash
),

suppressions as (
    select
        recipient_address_hash,
        suppressed_since,
        released_at
    from suppressed_states
    group by recipient_address_hash, suppressed_since, released_at
),

active_starts as (
    select
        addresses.recipient_address_hash,
        addresses.first_event_at as valid_from
    from addresses
    where addresses.recipient_address_hash in (select suppressions.recipient_address_hash from suppressions)
    union all
    select
        recipient_address_hash,
        released_at as valid_from
    from suppressions
    where released_at is not null
),

active_states as (
    select
        recipient_address_hash,
        'active' as state,
        cast(null as {{ dbt.type_string() }}) as suppression_rule,
        cast(null as {{ dbt.type_string() }}) as suppression_category,
        cast(null as {{ dbt.type_string() }}) as reason,
        valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as suppressed_since,
        cast(null as {{ dbt.type_timestamp() }}) as released_at,
        cast(null as {{ dbt.type_int() }}) as consecutive_soft_errors,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as execution_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        cast(null as {{ dbt.type_string() }}) as event_id,
        0 as strength
    from active_starts
),

states as (
    select
        recipient_address_hash,
        state,
        suppression_rule,
        suppression_category,
        reason,
        valid_from,
        suppressed_since,
        released_at,
        consecutive_soft_errors,
        campaign_id,
        execution_id,
        message_id,
        event_id,
        strength
    from suppressed_states
    union all
    select * from active_states
),

states_bounded as (
    select
        *,
        -- At one instant, the weaker state comes first and lasts no time.
        lead(valid_from) over (partition by recipient_address_hash order by valid_from, strength) as next_valid_from
    from states
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'states_bounded.recipient_address_hash', "'|'",
            'cast(states_bounded.valid_from as ' ~ dbt.type_string() ~ ')',
        ])) }} as suppression_state_id,
        states_bounded.recipient_address_hash,
        addresses.recipient_domain,
        addresses.channel,
        states_bounded.state,
        states_bounded.suppression_rule,
        states_bounded.suppression_category,
        states_bounded.reason,
        states_bounded.valid_from,
        states_bounded.next_valid_from as valid_to,
        states_bounded.next_valid_from is null as is_current,
        states_bounded.suppressed_since,
        states_bounded.released_at,
        case when states_bounded.released_at is not null then 'sent_again' end as release_reason,
        {%- if release_days is none %}
        cast(null as {{ dbt.type_timestamp() }}) as release_due_at,
        {%- else %}
        case
            when states_bounded.suppression_category = 'soft'
                then {{ dbt.dateadd('day', release_days, 'states_bounded.suppressed_since') }}
        end as release_due_at,
        {%- endif %}
        cast(states_bounded.consecutive_soft_errors as {{ dbt.type_int() }}) as consecutive_soft_errors,
        states_bounded.campaign_id,
        states_bounded.execution_id,
        states_bounded.message_id,
        states_bounded.event_id,
        addresses.last_loaded_at
    from states_bounded
    inner join addresses
        on states_bounded.recipient_address_hash = addresses.recipient_address_hash
    -- An active interval that a suppression at the same instant replaces has no length.
    where states_bounded.next_valid_from is null or states_bounded.next_valid_from > states_bounded.valid_from
)

select * from final
