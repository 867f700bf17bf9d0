{#- The live window's event counts per clock hour, per delivery or campaign tab: every hour
    that intersects the window is present for every row of the live statistics at that
    grain, empty hours as zeros, so the hours sum to the window's totals (tested); and the
    retry queue at each hour's end (`retries`, not additive: the last hour's equals the
    window's retries, tested). -#}
{% macro live_hourly_series_query(grain='delivery') -%}
{%- set keys = report_grain_keys(grain) -%}
{%- set window = live_report_window() -%}
with

-- The window's message hours: whole hours from fct_message_hours, the two edge hours from
-- the events (live_window_message_hours), so the counts are exact at both edges.
message_hours as (
    {{ live_window_message_hours(window) }}
),

-- Offer events carry an offer_id, which no hour fact keeps: counted from the window's
-- events, filtered at the scan to the offer events.
offer_events as (
    select
        {{ keys | join(',\n        ') }},
        {{ dbt.date_trunc('hour', 'event_ts') }} as hour_start,
        event_source,
        event_type,
        offer_id
    from {{ ref('int_events_unioned') }}
    where
        offer_id is not null
        and {{ window_contains(window, 'event_ts') }}
),

report_rows as (
    select
        {{ keys | join(',\n        ') }}
    from {{ ref('live_delivery_statistics' if grain == 'delivery' else 'live_channel_statistics') }}
),

hours as (
    {{ live_hour_buckets() }}
),

-- The retry queue after each hour's events (the window's events only, so the last hour's
-- is the queue at the window's end): messages whose last feedback event so far is a retry.
-- A message hour's last_feedback_status is its last feedback event in that hour (a final
-- outcome after a retry on a tie), so a message is queued from the end of an hour whose
-- last feedback is a retry until its next hour with feedback.
feedback_hours as (
    select
        {{ keys | join(',\n        ') }},
        activity_hour,
        last_feedback_status,
        lead(activity_hour) over (
            partition by campaign_id, execution_id, channel, message_id
            order by activity_hour
        ) as next_feedback_hour
    from message_hours
    where last_feedback_at is not null
),

hourly_retries as (
    select
        {% for key in keys -%}
        feedback_hours.{{ key }},
        {% endfor -%}
        hours.hour_start,
        count(*) as retries
    from feedback_hours
    inner join hours
        on
            feedback_hours.activity_hour <= hours.hour_start
            and (
                feedback_hours.next_feedback_hour is null
                or feedback_hours.next_feedback_hour > hours.hour_start
            )
    where feedback_hours.last_feedback_status = 'retry'
    group by {% for key in keys %}feedback_hours.{{ key }}, {% endfor %}hours.hour_start
),

hourly_counts as (
    select
        {{ keys | join(',\n        ') }},
        activity_hour as hour_start,
        {%- for metric in event_count_metrics() %}
        {{ sum_count(metric.name) }} as {{ metric.name }},
        {%- endfor %}
        {{ hourly_metric_aggregates('message_hours') }}
    from message_hours
    group by {{ keys | join(', ') }}, activity_hour
),

hourly_offer_counts as (
    select
        {{ keys | join(',\n        ') }},
        hour_start,
        {{ hourly_metric_aggregates('events') }}
    from offer_events
    group by {{ keys | join(', ') }}, hour_start
),

row_hours as (
    select
        {% for key in keys -%}
        report_rows.{{ key }},
        {% endfor -%}
        hours.hour_start
    from report_rows
    cross join hours
),

hours_filled as (
    select
        {% for key in keys -%}
        row_hours.{{ key }},
        {% endfor -%}
        row_hours.hour_start,
        {% for metric in event_count_metrics() + (report_metrics() | selectattr('hourly') | list) -%}
        coalesce({{ 'hourly_offer_counts' if metric.kind == 'offer_event' else 'hourly_counts' }}.{{ metric.name }}, 0) as {{ metric.name }},
        {% endfor -%}
        coalesce(hourly_retries.retries, 0) as retries
    from row_hours
    left join hourly_counts
        on
            {% for key in keys -%}
            row_hours.{{ key }} = hourly_counts.{{ key }}
            and {% endfor -%}
            row_hours.hour_start = hourly_counts.hour_start
    left join hourly_offer_counts
        on
            {% for key in keys -%}
            row_hours.{{ key }} = hourly_offer_counts.{{ key }}
            and {% endfor -%}
            row_hours.hour_start = hourly_offer_counts.hour_start
    left join hourly_retries
        on
            {% for key in keys -%}
            row_hours.{{ key }} = hourly_retries.{{ key }}
            and {% endfor -%}
            row_hours.hour_start = hourly_retries.hour_start
),

final as (
    select
        *,
        {{ to_report_timezone('hour_start') }} as hour_start_local,
        '{{ report_timezone() }}' as report_timezone,
        {{ delivery_derived_metrics() }},
        {{ window_bounds_columns(window) }}
    from hours_filled
)

select * from final
{%- endmacro %}

