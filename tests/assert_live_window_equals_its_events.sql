-- The live window's inputs read from the hour facts (whole hours) and the events (the two
-- edge hours) equal the same inputs computed from the window's events alone, exact to the
-- microsecond at both edges: the messages (every column of int_messages_in_live_window),
-- the failures and the link clicks (counted per the columns the reports group by). Each
-- row is a difference: what one side has and the other lacks. Not a live test: it reads
-- the whole window's events, what the live models avoid.
{%- set window = live_report_window() %}
{%- set attributes = ['profile_id', 'recipient_address_hash', 'recipient_domain', 'platform'] %}
{%- set failure_columns = ['campaign_id', 'execution_id', 'channel', 'reason_kind', 'failure_type', 'reason', 'recipient_domain', 'reason_label', 'reason_category'] %}
{%- set click_columns = ['campaign_id', 'execution_id', 'channel', 'message_id', 'url', 'user_agent'] %}

with

-- The window's events, each open and click with its class (fct_open_click_events).
window_events as (
    select * from {{ events_with_machine_rule(ref('int_events_unioned'), window_contains(window, 'event_ts')) }} as events_with_class
    where {{ window_contains(window, 'event_ts') }}
),

window_failures as (
    select * from {{ ref('int_failure_events') }}
    where {{ window_contains(window, 'event_ts') }}
),

message_attributes as (
    select * from {{ ref('fct_messages') }}
),

live_messages as (
    select * from {{ ref('int_messages_in_live_window') }}
),

live_failures as (
    select * from {{ window_input(window, 'failures') }} as failures_in_window
),

live_link_clicks as (
    select * from {{ window_input(window, 'link_clicks') }} as link_clicks_in_window
),

messages_from_events as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_event_aggregates() }}
    from window_events
    group by campaign_id, execution_id, channel, message_id
),

expected_messages as (
    select
        messages_from_events.campaign_id,
        messages_from_events.execution_id,
        messages_from_events.channel,
        messages_from_events.message_id,
        {%- for column in message_activity_columns() %}
        {{ 'message_attributes' if column in attributes else 'messages_from_events' }}.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from messages_from_events
    left join message_attributes
        on
            messages_from_events.campaign_id = message_attributes.campaign_id
            and messages_from_events.execution_id = message_attributes.execution_id
            and messages_from_events.channel = message_attributes.channel
            and messages_from_events.message_id = message_attributes.message_id
),

actual_messages as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_activity_columns() | join(',\n        ') }}
    from live_messages
),

expected_failures as (
    select
        {{ failure_columns | join(',\n        ') }},
        count(*) as events
    from window_failures
    group by {{ failure_columns | join(', ') }}
),

actual_failures as (
    select
        {{ failure_columns | join(',\n        ') }},
        {{ sum_count('events') }} as events
    from live_failures
    group by {{ failure_columns | join(', ') }}
),

expected_link_clicks as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        coalesce(url, 'unknown') as url,
        user_agent,
        count(*) as clicks
    from window_events
    where event_source = 'tracking' and event_type = 'click'
    group by campaign_id, execution_id, channel, message_id, coalesce(url, 'unknown'), user_agent
),

actual_link_clicks as (
    select
        {{ click_columns | join(',\n        ') }},
        {{ sum_count('clicks') }} as clicks
    from live_link_clicks
    group by {{ click_columns | join(', ') }}
),

differences as (
    select 'message only from events' as difference, campaign_id, execution_id, channel
    from (select * from expected_messages except all select * from actual_messages) as missing
    union all
    select 'message only from hours' as difference, campaign_id, execution_id, channel
    from (select * from actual_messages except all select * from expected_messages) as extra
    union all
    select 'failures only from events' as difference, campaign_id, execution_id, channel
    from (select * from expected_failures except all select * from actual_failures) as missing
    union all
    select 'failures only from hours' as difference, campaign_id, execution_id, channel
    from (select * from actual_failures except all select * from expected_failures) as extra
    union all
    select 'link clicks only from events' as difference, campaign_id, execution_id, channel
    from (select * from expected_link_clicks except all select * from actual_link_clicks) as missing
    union all
    select 'link clicks only from hours' as difference, campaign_id, execution_id, channel
    from (select * from actual_link_clicks except all select * from expected_link_clicks) as extra
)

select * from differences
