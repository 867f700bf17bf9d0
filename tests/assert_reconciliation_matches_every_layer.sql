-- audit_row_reconciliation counts every raw table's rows by status in its base model. Each
-- count must equal the rows of the model that holds them: raw_rows the raw table (no row
-- lost before the base model), staged_rows the staged model, rejected_rows
-- stg_raw__rejected_rows. With the model's own test (raw = staged + duplicates +
-- rejected), every raw row is staged, a duplicate or a reject, and nothing is counted
-- twice. Fails with each table whose counts disagree.
with

reconciliation as (
    select * from {{ ref('audit_row_reconciliation') }}
),

rejected_rows as (
    select table_name from {{ ref('stg_raw__rejected_rows') }}
),

raw_counts as (
    select 'message_feedback_events' as table_name, count(*) as row_count from {{ source('raw', 'message_feedback_events') }}
    union all
    select 'message_tracking_events' as table_name, count(*) as row_count from {{ source('raw', 'message_tracking_events') }}
    union all
    select 'offer_propositions' as table_name, count(*) as row_count from {{ source('raw', 'offer_propositions') }}
    union all
    select 'campaigns' as table_name, count(*) as row_count from {{ source('raw', 'campaigns') }}
),

staged_counts as (
    select 'message_feedback_events' as table_name, count(*) as row_count from {{ ref('stg_raw__message_feedback_events') }}
    union all
    select 'message_tracking_events' as table_name, count(*) as row_count from {{ ref('stg_raw__message_tracking_events') }}
    union all
    select 'offer_propositions' as table_name, count(*) as row_count from {{ ref('stg_raw__offer_propositions') }}
    union all
    select 'campaigns' as table_name, count(*) as row_count from {{ ref('stg_raw__campaigns') }}
),

rejected_counts as (
    select
        table_name,
        count(*) as row_count
    from rejected_rows
    group by table_name
),

compared as (
    select
        raw_counts.table_name,
        raw_counts.row_count as raw_table_rows,
        reconciliation.raw_rows,
        staged_counts.row_count as staged_model_rows,
        reconciliation.staged_rows,
        coalesce(rejected_counts.row_count, 0) as rejected_model_rows,
        reconciliation.rejected_rows
    from raw_counts
    left join reconciliation
        on raw_counts.table_name = reconciliation.table_name
    left join staged_counts
        on raw_counts.table_name = staged_counts.table_name
    left join rejected_counts
        on raw_counts.table_name = rejected_counts.table_name
)

select * from compared
where
    raw_rows is null
    or raw_table_rows != raw_rows
    or staged_model_rows != staged_rows
    or rejected_model_rows != rejected_rows
