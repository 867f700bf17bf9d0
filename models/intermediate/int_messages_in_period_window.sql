-- A table: every windowed mart reads it, so the window is aggregated once per run.
{{ config(materialized='table') }}

-- One row per message with at least one valid event in the period window
-- (period_start <= event_ts < period_end), aggregated from those events only.
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where {{ in_period_window('event_ts') }}
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
