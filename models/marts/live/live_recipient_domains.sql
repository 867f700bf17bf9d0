-- One row per email delivery x recipient domain with events in the live window: the
-- delivery statistics of the domain's messages (domain from fct_messages, all history).
-- Serves "best recipient domains" (order by unique_opens) and per-domain statistics.
with

messages as (
    select * from {{ ref('int_messages_in_live_window') }}
    where channel = 'email'
),

message_attributes as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        recipient_domain
    from {{ ref('fct_messages') }}
),

{{ message_breakdown_ctes('messages', 'message_attributes', 'recipient_domain') }}

final as (
    select
        campaign_id,
        execution_id,
        channel,
        recipient_domain,
        {{ breakdown_statistics_columns() }},
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end
    from breakdown
)

select * from final
