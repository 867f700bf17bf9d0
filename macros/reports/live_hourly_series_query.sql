{#- The live window's event counts per clock hour, per delivery or campaign tab: every hour
    that intersects the window is present for every row of the live statistics at that
    grain, empty hours as zeros, so the hours sum to the window's totals (tested). -#}
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

hourly_counts as (
    select
        {{ keys | join(',\n        ') }},
        hour_start,
        {{ event_count_aggregates() }},
        count(distinct case when event_source = 'tracking' and event_type = 'impression' then {{ dbt.concat(['execution_id', "'|'", 'message_id']) }} end)
            as unique_impressions,
        {{ count_where("event_source = 'tracking' and event_type = 'click' and offer_id is not null") }}
            as offer_clicks
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
        {% for metric in event_count_metrics() -%}
        coalesce(hourly_counts.{{ metric.name }}, 0) as {{ metric.name }},
        {% endfor -%}
        coalesce(hourly_counts.unique_impressions, 0) as unique_impressions,
        coalesce(hourly_counts.offer_clicks, 0) as offer_clicks
    from row_hours
    left join hourly_counts
        on
            {% for key in keys -%}
            row_hours.{{ key }} = hourly_counts.{{ key }}
            and {% endfor -%}
            row_hours.hour_start = hourly_counts.hour_start
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
