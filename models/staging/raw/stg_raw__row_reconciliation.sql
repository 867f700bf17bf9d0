-- One row per raw table: where every raw row went. Each count is taken from a different
-- model (raw source, staged model, rejects model, base duplicates) so that the test
-- raw_rows = staged_rows + duplicate_rows + rejected_rows proves nothing was lost.
with

raw_feedback as (
    select count(*) as row_count from {{ source('raw', 'message_feedback_events') }}
),

raw_tracking as (
    select count(*) as row_count from {{ source('raw', 'message_tracking_events') }}
),

raw_propositions as (
    select count(*) as row_count from {{ source('raw', 'offer_propositions') }}
),

raw_campaigns as (
    select count(*) as row_count from {{ source('raw', 'campaigns') }}
),

staged_feedback as (
    select count(*) as row_count from {{ ref('stg_raw__message_feedback_events') }}
),

staged_tracking as (
    select count(*) as row_count from {{ ref('stg_raw__message_tracking_events') }}
),

staged_propositions as (
    select count(*) as row_count from {{ ref('stg_raw__offer_propositions') }}
),

staged_campaigns as (
    select count(*) as row_count from {{ ref('stg_raw__campaigns') }}
),

duplicate_feedback as (
    select count(*) as row_count from {{ ref('base_raw__message_feedback_events') }}
    where row_status = 'duplicate'
),

duplicate_tracking as (
    select count(*) as row_count from {{ ref('base_raw__message_tracking_events') }}
    where row_status = 'duplicate'
),

duplicate_propositions as (
    select count(*) as row_count from {{ ref('base_raw__offer_propositions') }}
    where row_status = 'duplicate'
),

duplicate_campaigns as (
    select count(*) as row_count from {{ ref('base_raw__campaigns') }}
    where row_status = 'duplicate'
),

rejected_rows as (
    select * from {{ ref('stg_raw__rejected_rows') }}
),

rejected_counts as (
    select
        table_name,
        count(*) as row_count
    from rejected_rows
    group by table_name
),

tables_counted as (
    select
        'message_feedback_events' as table_name,
        raw_feedback.row_count as raw_rows,
        staged_feedback.row_count as staged_rows,
        duplicate_feedback.row_count as duplicate_rows
    from raw_feedback, staged_feedback, duplicate_feedback

    union all

    select
        'message_tracking_events' as table_name,
        raw_tracking.row_count as raw_rows,
        staged_tracking.row_count as staged_rows,
        duplicate_tracking.row_count as duplicate_rows
    from raw_tracking, staged_tracking, duplicate_tracking

    union all

    select
        'offer_propositions' as table_name,
        raw_propositions.row_count as raw_rows,
        staged_propositions.row_count as staged_rows,
        duplicate_propositions.row_count as duplicate_rows
    from raw_propositions, staged_propositions, duplicate_propositions

    union all

    select
        'campaigns' as table_name,
        raw_campaigns.row_count as raw_rows,
        staged_campaigns.row_count as staged_rows,
        duplicate_campaigns.row_count as duplicate_rows
    from raw_campaigns, staged_campaigns, duplicate_campaigns
),

final as (
    select
        tables_counted.table_name,
        tables_counted.raw_rows,
        tables_counted.staged_rows,
        tables_counted.duplicate_rows,
        coalesce(rejected_counts.row_count, 0) as rejected_rows
    from tables_counted
    left join rejected_counts
        on tables_counted.table_name = rejected_counts.table_name
)

select * from final
