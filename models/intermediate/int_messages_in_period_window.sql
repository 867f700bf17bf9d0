-- One row per message with at least one valid event in the period window of the vars
-- period_start and period_end (whole UTC hours; unset = unbounded): its hours in the
-- window (fct_message_hours) rolled up, exactly as period_*_between roll them up.
-- Unbounded, the window is all history and its rollup is fct_messages itself (the same
-- macro over the same hours): a view of it, rather than a second rollup of every hour.
{%- set unbounded = period_is_unbounded() %}
{{ config(materialized='view' if unbounded else 'table') }}

with

{% if unbounded -%}
messages as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        {{ message_activity_columns() | join(',\n        ') }}
    from {{ ref('fct_messages') }}
)
{%- else -%}
-- A table: every static period mart reads it, so the window is rolled up once per build.
messages as (
    select * from {{ window_input(period_vars_window(messages_model=none), 'messages') }} as messages_in_window
)
{%- endif %}

select * from messages
