-- A table: every windowed mart reads it, so the window is aggregated once per run.
{{ config(materialized='table') }}

-- One row per message with at least one valid event in the live window
-- (report_as_of - 24 h < event_ts <= report_as_of - 2 min), aggregated from those
-- events only: the input of every live delivery-grain mart.
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where {{ in_live_window('event_ts') }}
),

messages_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_metric_aggregates() }}
    from events
    group by campaign_id, execution_id, channel, message_id
)

select * from messages_aggregated
