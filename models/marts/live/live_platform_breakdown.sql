-- One row per delivery x platform (ios, android, web; 'unknown' when the message has
-- none) with events in the live window. Serves the push "breakdown by platform" widget
-- (filter channel = 'push'); the platforms sum to the delivery's totals (tested).
with

messages as (
    select * from {{ ref('int_messages_in_live_window') }}
),

message_attributes as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        platform
    from {{ ref('fct_messages') }}
),

{{ message_breakdown_ctes('messages', 'message_attributes', 'platform') }}

final as (
    select
        campaign_id,
        execution_id,
        channel,
        platform,
        {{ breakdown_statistics_columns() }},
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end
    from breakdown
)

select * from final
