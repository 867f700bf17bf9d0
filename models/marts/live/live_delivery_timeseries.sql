-- One row per delivery of live_delivery_statistics x clock hour of the live window
-- (hours with no event are present, as zeros): event counts per hour. Sums over the
-- hours equal the delivery's window totals (tested).
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where {{ in_live_window('event_ts') }}
),

deliveries as (
    select
        campaign_id,
        execution_id,
        channel
    from {{ ref('live_delivery_statistics') }}
),

hours as (
    {{ live_hour_buckets() }}
),

events_bucketed as (
    select
        *,
        {{ dbt.date_trunc('hour', 'event_ts') }} as hour_start
    from events
),

hourly_counts as (
    select
        campaign_id,
        execution_id,
        channel,
        hour_start,
        {{ event_count_aggregates() }},
        count(distinct case when event_source = 'tracking' and event_type = 'impression' then message_id end)
            as unique_impressions,
        {{ count_where("event_source = 'tracking' and event_type = 'click' and offer_id is not null") }}
            as offer_clicks
    from events_bucketed
    group by campaign_id, execution_id, channel, hour_start
),

delivery_hours as (
    select
        deliveries.campaign_id,
        deliveries.execution_id,
        deliveries.channel,
        hours.hour_start
    from deliveries
    cross join hours
),

hours_filled as (
    select
        delivery_hours.campaign_id,
        delivery_hours.execution_id,
        delivery_hours.channel,
        delivery_hours.hour_start,
        {% for metric in event_count_metrics() -%}
        coalesce(hourly_counts.{{ metric.name }}, 0) as {{ metric.name }},
        {% endfor -%}
        coalesce(hourly_counts.unique_impressions, 0) as unique_impressions,
        coalesce(hourly_counts.offer_clicks, 0) as offer_clicks
    from delivery_hours
    left join hourly_counts
        on
            delivery_hours.campaign_id = hourly_counts.campaign_id
            and delivery_hours.execution_id = hourly_counts.execution_id
            and delivery_hours.channel = hourly_counts.channel
            and delivery_hours.hour_start = hourly_counts.hour_start
),

final as (
    select
        *,
        {{ delivery_derived_metrics() }},
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end
    from hours_filled
)

select * from final
