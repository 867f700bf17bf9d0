-- One row per delivery x tracked interaction x element with events in the live window:
-- events and distinct messages. Serves in-app "interactions by type" (channel 'inapp',
-- group by interaction), web "interactions by element" (channel 'web') and push actions
-- by button (channel 'push', interaction 'action'). human_events and human_unique_messages
-- leave out the clicks (and opens) a machine rule classifies.
with

-- Each open and click with its class (fct_open_click_events), for the human counts.
events as (
    select * from {{ events_with_machine_rule(ref('int_events_unioned'), window_contains(live_report_window(), 'event_ts')) }}
        as events_with_class
    where
        event_source = 'tracking'
        and {{ window_contains(live_report_window(), 'event_ts') }}
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
        {{ count_where('machine_rule is null') }} as human_events,
        count(distinct case when machine_rule is null then message_id end) as human_unique_messages,
        {{ window_bounds_columns(live_report_window()) }}
    from events
    group by campaign_id, execution_id, channel, event_type, coalesce(element_id, 'unknown')
)

select * from final
