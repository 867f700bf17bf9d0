-- One row per delivery x day (in var report_timezone) from the delivery's first to its
-- last event day in the period window, empty days included as zeros: opens, clicks and
-- other reactions that day. Serves "opens and clicks over time" and "click distribution
-- over time".
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where
        event_source = 'tracking'
        and {{ in_period_window('event_ts') }}
),

events_dated as (
    select
        *,
        cast({{ to_report_timezone('event_ts') }} as date) as activity_date
    from events
),

daily_counts as (
    select
        campaign_id,
        execution_id,
        channel,
        activity_date,
        {{ count_where("event_type = 'open'") }} as opens,
        count(distinct case when event_type = 'open' then message_id end) as unique_opens,
        {{ count_where("event_type = 'click'") }} as clicks,
        count(distinct case when event_type = 'click' then message_id end) as unique_clicks,
        {{ count_where("event_type = 'unsubscribe'") }} as unsubscriptions,
        {{ count_where("event_type = 'spam_complaint'") }} as spam_complaints
    from events_dated
    group by campaign_id, execution_id, channel, activity_date
),

delivery_ranges as (
    select
        campaign_id,
        execution_id,
        channel,
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from daily_counts
    group by campaign_id, execution_id, channel
),

all_days as (
    {{ day_series('(select min(first_date) from delivery_ranges)', '(select max(last_date) from delivery_ranges)') }}
),

delivery_days as (
    select
        delivery_ranges.campaign_id,
        delivery_ranges.execution_id,
        delivery_ranges.channel,
        all_days.day as activity_date
    from delivery_ranges
    inner join all_days
        on all_days.day between delivery_ranges.first_date and delivery_ranges.last_date
),

final as (
    select
        delivery_days.campaign_id,
        delivery_days.execution_id,
        delivery_days.channel,
        delivery_days.activity_date,
        coalesce(daily_counts.opens, 0) as opens,
        coalesce(daily_counts.unique_opens, 0) as unique_opens,
        coalesce(daily_counts.clicks, 0) as clicks,
        coalesce(daily_counts.unique_clicks, 0) as unique_clicks,
        coalesce(daily_counts.unsubscriptions, 0) as unsubscriptions,
        coalesce(daily_counts.spam_complaints, 0) as spam_complaints
    from delivery_days
    left join daily_counts
        on
            delivery_days.campaign_id = daily_counts.campaign_id
            and delivery_days.execution_id = daily_counts.execution_id
            and delivery_days.channel = daily_counts.channel
            and delivery_days.activity_date = daily_counts.activity_date
)

select * from final
