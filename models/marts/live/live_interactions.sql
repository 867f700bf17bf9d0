-- One row per delivery x tracked interaction x element with events in the live window:
-- events and distinct messages. Serves in-app "interactions by type" (channel 'inapp',
-- group by interaction), web "interactions by element" (channel 'web') and push actions
-- by button (channel 'push', interaction 'action').
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where
        event_source = 'tracking'
        and {{ in_live_window('event_ts') }}
),

final as (
    select
        campaign_id,
        execution_id,
        channel,
        event_type as interaction,
        coalesce(element_id, 'unknown') as element_id,
        count(*) as events,
        count(distinct message_id) as unique_messages,
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end
    from events
    group by campaign_id, execution_id, channel, event_type, coalesce(element_id, 'unknown')
)

select * from final
