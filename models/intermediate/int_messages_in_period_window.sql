-- A table: every windowed mart reads it, so the window is aggregated once per run.
{{ config(materialized='table') }}
-- Both inputs declared whatever the vars, so the DAG does not depend on them:
-- depends_on: {{ ref('fct_messages') }}, {{ ref('int_events_unioned') }}

-- One row per message with at least one valid event in the period window
-- (period_start <= event_ts < period_end), aggregated from those events only.
{%- if period_is_unbounded() %}
-- No period var set: the window is all history, whose per-message aggregates fct_messages
-- already holds (same macro, same events), so they are read instead of recomputed.
with

messages as (
    select * from {{ ref('fct_messages') }}
),

messages_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_metric_columns() | join(',\n        ') }}
    from messages
)
{%- else %}
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
{%- endif %}

select * from messages_aggregated
