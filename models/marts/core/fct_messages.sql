-- One row per message: campaign x execution x channel x message_id, over all history,
-- rolled up from its hours (fct_message_hours), so history and any window count alike.
{{ config(
    materialized='incremental',
    unique_key='message_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

-- Incremental: the messages whose hours were re-derived since the last run, all their
-- hours. Every hour row carries its message's newest load time (message_last_loaded_at),
-- so a message with a newly loaded event has all its hours past the watermark, and the
-- filter, a constant, is applied at the scan: those rows were written last, zone maps
-- skip every older row group, and the cost follows the batch, not the history.
message_hours as (
    select * from {{ ref('fct_message_hours') }}
    {%- if is_incremental() %}
    where message_last_loaded_at > {{ load_watermark() }}
    {%- endif %}
),

hours_to_roll_up as (
    select * from message_hours
),

-- Most messages have one active hour: their hour row is already the message's rollup
-- (a rollup of one row returns it), so only the others go through the aggregation. A row
-- whose count is unknown (null) is aggregated too.
single_hour_messages as (
    select
        message_key,
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_activity_columns() | join(',\n        ') }}
    from hours_to_roll_up
    where message_hour_count = 1
),

multi_hour_messages as (
    select
        message_key,
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_activity_rollup() }}
    from hours_to_roll_up
    where message_hour_count is distinct from 1
    group by message_key, campaign_id, execution_id, channel, message_id
),

messages_rolled_up as (
    select * from single_hour_messages
    union all
    select * from multi_hour_messages
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
            when last_post_send_status = 'bounce' then 'bounced'
            when last_post_send_status = 'delivered' then 'delivered'
            when last_post_send_status = 'retry' then 'in_retry'
            else 'no_feedback_yet'
        end as delivery_status,
        coalesce(last_feedback_status = 'retry', false) as is_in_retry_queue
    from messages_rolled_up
),

final as (
    select
        -- ids
        message_key,
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ partition_date_column('first_event_at', 'first_event_date') }}
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
        last_feedback_status,
        last_feedback_at,
        last_post_send_status,
        last_post_send_at,
        last_failure_status,
        last_failure_type,
        last_failure_reason,
        last_failure_at,
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

-- A full build writes the messages in first_event_at order: fct_deliveries reads the
-- messages of the deliveries a refresh touches from their earliest first hour on (a
-- constant), and zone maps (DuckDB) skip the older row groups only when the messages are
-- stored in that order. Re-derived messages are appended last by incremental runs.
select * from final
{%- if not is_incremental() %}
order by first_event_at
{%- endif %}
