-- Over all history the send cohort and the event-time report are the same report: every
-- delivery executed in a range that covers all data, with all its events, is every event
-- of every delivery. Any difference in any column (bounds aside) is a counting error in
-- one of the two. DuckDB only (table functions).
{{ config(tags=['cross_report', 'full_check'], enabled=(target.type == 'duckdb')) }}

with

cohort as (
    select * exclude (period_start, period_end)
    from {{ unqualified_ref('period_delivery_cohort_between') }}(cast('1900-01-01' as timestamp), cast('3000-01-01' as timestamp))
),

event_time as (
    select * exclude (period_start, period_end)
    from {{ unqualified_ref('period_delivery_report_between') }}(cast('1900-01-01' as timestamp), cast('3000-01-01' as timestamp))
),

only_cohort as (
    select 'only_in_cohort' as side, * from (select * from cohort except all select * from event_time) as differences
),

only_event_time as (
    select 'only_in_event_time' as side, * from (select * from event_time except all select * from cohort) as differences
)

select * from only_cohort
union all
select * from only_event_time
