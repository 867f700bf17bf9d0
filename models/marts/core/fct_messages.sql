-- One row per message: campaign x execution x channel x message_id.
{%- set precedence = feedback_status_precedence() %}

{{ config(
    materialized='incremental',
    unique_key='message_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

events as (
    select * from {{ ref('int_events_unioned') }}
),

{% if is_incremental() -%}
-- Its own import, filtered at the scan: referencing `events` twice would make the engine
-- materialise every event of history before filtering.
new_events as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id
    from {{ ref('int_events_unioned') }}
    where
        _loaded_at > (
            select {{ dbt.dateadd('minute', -1 * var('incremental_lookback_minutes'), "coalesce(max(processed.last_loaded_at), cast('1900-01-01' as " ~ dbt.type_timestamp() ~ "))") }}
            from {{ this }} as processed
        )
),

-- Every message with an event loaded since the last run (minus an optional lookback) is
-- re-derived from all of its events, whenever they happened: a bounce or an open that
-- arrives days late updates exactly the message it belongs to.
touched_messages as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        message_id
    from new_events
),

events_to_aggregate as (
    select events.*
    from events
    inner join touched_messages
        on
            events.campaign_id = touched_messages.campaign_id
            and events.execution_id = touched_messages.execution_id
            and events.channel = touched_messages.channel
            and events.message_id = touched_messages.message_id
),
{% else %}
events_to_aggregate as (
    select * from events
),
{% endif %}

messages_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_metric_aggregates() }},
        {{ message_state_aggregates() }}
    from events_to_aggregate
    group by campaign_id, execution_id, channel, message_id
),

messages_classified as (
    select
        *,
        case
            when sent > 0 then 'sent'
            when errors > 0 then 'error'
            when excluded > 0 then 'excluded'
        end as processing_outcome,
        case
            when sent = 0 and (errors > 0 or excluded > 0) then 'not_sent'
            when mod(last_post_send_key, 10) = {{ precedence['bounce'] }} then 'bounced'
            when mod(last_post_send_key, 10) = {{ precedence['delivered'] }} then 'delivered'
            when mod(last_post_send_key, 10) = {{ precedence['retry'] }} then 'in_retry'
            else 'no_feedback_yet'
        end as delivery_status,
        coalesce(mod(last_feedback_key, 10) = {{ precedence['retry'] }}, false) as is_in_retry_queue
    from messages_aggregated
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(["campaign_id", "'|'", "execution_id", "'|'", "channel", "'|'", "message_id"])) }} as message_key,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        targeted_profile_id,
        recipient_address_hash,
        recipient_domain,
        platform,
        -- state
        processing_outcome,
        delivery_status,
        case when delivery_status in ('bounced', 'in_retry', 'not_sent') then last_failure_type end as failure_type,
        case when delivery_status in ('bounced', 'in_retry', 'not_sent') then last_failure_reason end as failure_reason,
        is_in_retry_queue,
        last_feedback_key,
        last_loaded_at,
        -- counts
        {% for metric in event_count_metrics() -%}
        {{ metric.name }},
        {% endfor -%}
        -- timestamps
        first_event_at,
        last_event_at,
        first_feedback_at,
        {% for metric in event_count_metrics() if metric.first_at is defined -%}
        {{ metric.first_at }}{% if not loop.last %},{% endif %}
        {% endfor -%}
    from messages_classified
)

select * from final
