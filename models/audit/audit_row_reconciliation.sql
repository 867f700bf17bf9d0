-- One row per raw table: where every raw row went, counted over its base model (one row
-- per raw row, nothing dropped, each with its row_status). Each count is an aggregate
-- without a group by, so every raw table has its row even when it is empty. The model's
-- test (raw_rows = staged_rows + duplicate_rows + rejected_rows) and
-- tests/assert_reconciliation_matches_every_layer.sql, which ties each count to the model
-- that holds those rows (the raw table, the staged model, stg_raw__rejected_rows), prove
-- that nothing was lost or counted twice.
{{ config(materialized='table') }}

with

feedback as (
    select row_status from {{ ref('base_raw__message_feedback_events') }}
),

tracking as (
    select row_status from {{ ref('base_raw__message_tracking_events') }}
),

propositions as (
    select row_status from {{ ref('base_raw__offer_propositions') }}
),

campaigns as (
    select row_status from {{ ref('base_raw__campaigns') }}
),

{%- set tables = [
    ('message_feedback_events', 'feedback'),
    ('message_tracking_events', 'tracking'),
    ('offer_propositions', 'propositions'),
    ('campaigns', 'campaigns'),
] %}

statuses_counted as (
    {%- for table_name, base_rows in tables %}
    select
        '{{ table_name }}' as table_name,
        count(*) as raw_rows,
        count(case when row_status = 'staged' then 1 end) as staged_rows,
        count(case when row_status = 'duplicate' then 1 end) as duplicate_rows,
        count(case when row_status = 'rejected' then 1 end) as rejected_rows
    from {{ base_rows }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
)

select * from statuses_counted
