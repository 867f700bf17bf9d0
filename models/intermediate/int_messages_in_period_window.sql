-- A table: every static period mart reads it, so the window is rolled up once per build.
{{ config(materialized='table') }}

-- One row per message with at least one valid event in the period window of the vars
-- period_start and period_end (whole UTC hours; unset = unbounded): its hours in the
-- window (fct_message_hours) rolled up, exactly as period_*_between roll them up.
with

messages as (
    select * from {{ window_input(period_vars_window(messages_model=none), 'messages') }} as messages_in_window
)

select * from messages
