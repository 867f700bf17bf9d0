-- One row: the live window every live mart of this run counts, and how fresh the data in
-- it is. The refresh publishes it with its own publish time and failures as
-- marts.publish_status, so a reader can tell "data as of" and notice a stale publish.
with

messages as (
    select * from {{ ref('int_messages_in_live_window') }}
),

window_summarised as (
    select
        count(*) as messages,
        max(last_event_at) as newest_event_at,
        max(last_loaded_at) as newest_loaded_at
    from messages
),

final as (
    select
        {{ _timestamp_literal(live_report_window().as_of) }} as report_as_of,
        {{ window_bounds_columns(live_report_window()) }},
        newest_event_at,
        newest_loaded_at,
        messages as messages_in_window
    from window_summarised
)

select * from final
