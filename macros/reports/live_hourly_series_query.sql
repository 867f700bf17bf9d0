{#- The live window's event counts per clock hour, per delivery or campaign tab: every hour
    that intersects the window is present for every row of the live statistics at that
    grain, empty hours as zeros, so the hours sum to the window's totals (tested); and the
    retry queue at each hour's end (`retries`, not additive: the last hour's equals the
    window's retries, tested). -#}
{% macro live_hourly_series_query(grain='delivery') -%}
{%- set keys = report_grain_keys(grain) -%}
{%- set window = live_report_window() -%}
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where {{ window_contains(window, 'event_ts') }}
),

report_rows as (
    select
        {{ keys | join(',\n        ') }}
    from {{ ref('live_delivery_statistics' if grain == 'delivery' else 'live_channel_statistics') }}
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

-- The retry queue after each hour's events (the window's events only, so the last hour's
-- is the queue at the window's end): messages whose last feedback event so far is a retry.
-- A retry keeps a message queued until its next feedback event (on a tie, a final outcome
-- comes after the retry).
feedback_ordered as (
    select
        {{ keys | join(',\n        ') }},
        event_type,
        event_ts,
        lead(event_ts) over (
            partition by campaign_id, execution_id, channel, message_id
            order by {{ feedback_order_key('event_ts', 'event_type') }}
        ) as next_feedback_at
    from events
    where event_source = 'feedback'
),

hourly_retries as (
    select
        {% for key in keys -%}
        feedback_ordered.{{ key }},
        {% endfor -%}
        hours.hour_start,
        count(*) as retries
    from feedback_ordered
    inner join hours
        on
            feedback_ordered.event_ts < {{ dbt.dateadd('hour', 1, 'hours.hour_start') }}
            and (
                feedback_ordered.next_feedback_at is null
                or feedback_ordered.next_feedback_at >= {{ dbt.dateadd('hour', 1, 'hours.hour_start') }}
            )
    where feedback_ordered.event_type = 'retry'
    group by {% for key in keys %}feedback_ordered.{{ key }}, {% endfor %}hours.hour_start
),

hourly_counts as (
    select
        {{ keys | join(',\n        ') }},
        hour_start,
        {{ event_count_aggregates() }},
        {{ hourly_metric_aggregates() }}
    from events_bucketed
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
        coalesce(hourly_counts.{{ metric.name }}, 0) as {{ metric.name }},
        {% endfor -%}
        coalesce(hourly_retries.retries, 0) as retries
    from row_hours
    left join hourly_counts
        on
            {% for key in keys -%}
            row_hours.{{ key }} = hourly_counts.{{ key }}
            and {% endfor -%}
            row_hours.hour_start = hourly_counts.hour_start
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
        {{ delivery_derived_metrics() }},
        {{ window_bounds_columns(window) }}
    from hours_filled
)

select * from final
{%- endmacro %}

