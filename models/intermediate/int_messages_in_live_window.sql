-- A table: every live mart reads it, so the window is aggregated once per run.
{{ config(materialized='table') }}

-- One row per message (campaign x execution x channel x message_id) with at least one
-- valid event in the live window (report_as_of - 24 h < event_ts <= report_as_of - 2 min):
-- message_activity_columns over the window's message hours (live_window_message_hours: the
-- whole hours from fct_message_hours, the two edge hours from the events, exact to the
-- microsecond at both edges) rolled up per message as the period window rolls up its hours,
-- with the message's attributes (profile, address, domain, platform) over all history, as
-- the period window's rows have them: every fct_message_hours row of a message carries
-- them (the values fct_messages rolls up), so they are read from the message's hour rows
-- of the window's hours, edge hours included, never from a scan of all messages.
{%- set window = live_report_window() %}
{%- set attributes = ['profile_id', 'recipient_address_hash', 'recipient_domain', 'platform'] %}

with

message_hours as (
    {{ live_window_message_hours(window) }}
),

message_hour_attributes as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ attributes | join(',\n        ') }}
    from {{ ref('fct_message_hours') }}
    where {{ live_hours_contain(window, 'activity_hour') }}
),

message_attributes as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        min(profile_id) as profile_id,
        max(recipient_address_hash) as recipient_address_hash,
        max(recipient_domain) as recipient_domain,
        max(platform) as platform
    from message_hour_attributes
    group by campaign_id, execution_id, channel, message_id
),

messages_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_activity_rollup() }}
    from message_hours
    group by campaign_id, execution_id, channel, message_id
),

final as (
    select
        messages_aggregated.campaign_id,
        messages_aggregated.execution_id,
        messages_aggregated.channel,
        messages_aggregated.message_id,
        {%- for column in message_activity_columns() %}
        {%- if column in attributes %}
        message_attributes.{{ column }}{% if not loop.last %},{% endif %}
        {%- else %}
        messages_aggregated.{{ column }}{% if not loop.last %},{% endif %}
        {%- endif %}
        {%- endfor %}
    from messages_aggregated
    left join message_attributes
        on
            messages_aggregated.campaign_id = message_attributes.campaign_id
            and messages_aggregated.execution_id = message_attributes.execution_id
            and messages_aggregated.channel = message_attributes.channel
            and messages_aggregated.message_id = message_attributes.message_id
)

select * from final
