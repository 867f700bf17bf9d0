{#- A period's opens, clicks, unsubscriptions and spam complaints per delivery and
    calendar day in the window's time zone (window.timezone, a SQL expression naming an
    IANA zone: var report_timezone, or the function's argument), from the
    window's message hours (exact for zones whole hours from UTC); days from the delivery's
    first to its last day with activity are all present, empty ones as zeros. Unique counts
    are distinct messages that day (not additive across days); human_* the same without
    the machines' opens and clicks. -#}
{% macro engagement_daily_query(window) -%}
with

message_hours as (
    select * from {{ window_input(window, 'message_hours') }} as message_hours_in_window
    where opens + clicks + unsubscriptions + spam_complaints > 0
),

hours_dated as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        opens,
        clicks,
        human_opens,
        human_clicks,
        unsubscriptions,
        spam_complaints,
        cast({{ to_timezone('activity_hour', window.timezone) }} as date) as activity_date
    from message_hours
),

message_days as (
    select
        campaign_id,
        execution_id,
        channel,
        message_id,
        activity_date,
        {{ sum_count('opens') }} as opens,
        {{ sum_count('clicks') }} as clicks,
        {{ sum_count('human_opens') }} as human_opens,
        {{ sum_count('human_clicks') }} as human_clicks,
        {{ sum_count('unsubscriptions') }} as unsubscriptions,
        {{ sum_count('spam_complaints') }} as spam_complaints
    from hours_dated
    group by campaign_id, execution_id, channel, message_id, activity_date
),

daily_counts as (
    select
        campaign_id,
        execution_id,
        channel,
        activity_date,
        {{ sum_count('opens') }} as opens,
        {{ count_where('opens > 0') }} as unique_opens,
        {{ sum_count('clicks') }} as clicks,
        {{ count_where('clicks > 0') }} as unique_clicks,
        {{ sum_count('human_opens') }} as human_opens,
        {{ count_where('human_opens > 0') }} as human_unique_opens,
        {{ sum_count('human_clicks') }} as human_clicks,
        {{ count_where('human_clicks > 0') }} as human_unique_clicks,
        {{ sum_count('unsubscriptions') }} as unsubscriptions,
        {{ sum_count('spam_complaints') }} as spam_complaints
    from message_days
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
        {{ window_bounds_columns(window) }},
        coalesce(daily_counts.opens, 0) as opens,
        coalesce(daily_counts.unique_opens, 0) as unique_opens,
        coalesce(daily_counts.clicks, 0) as clicks,
        coalesce(daily_counts.unique_clicks, 0) as unique_clicks,
        coalesce(daily_counts.human_opens, 0) as human_opens,
        coalesce(daily_counts.human_unique_opens, 0) as human_unique_opens,
        coalesce(daily_counts.human_clicks, 0) as human_clicks,
        coalesce(daily_counts.human_unique_clicks, 0) as human_unique_clicks,
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
{%- endmacro %}
