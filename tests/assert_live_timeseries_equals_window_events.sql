-- The live time series (per delivery and per campaign tab), built from the window's message
-- hours (whole hours from fct_message_hours, edge hours from the events), equals the same
-- series computed from the window's events alone: every event count, every hourly metric
-- and the retry queue at each hour's end (a retry event is queued until the message's next
-- feedback event). Each row is an hour of a series that differs. Not a live test: it reads
-- the whole window's events, what the live models avoid.
{%- set window = live_report_window() %}
{%- set metrics = event_count_metrics() + (report_metrics() | selectattr('hourly') | list) %}

with

-- The window's events, each open and click with its class (fct_open_click_events).
window_events as (
    select * from {{ events_with_machine_rule(ref('int_events_unioned'), window_contains(window, 'event_ts')) }} as events_with_class
    where {{ window_contains(window, 'event_ts') }}
),

hours as (
    {{ live_hour_buckets() }}
),

{%- for grain, model in [('delivery', 'live_delivery_timeseries'), ('channel', 'live_channel_timeseries')] %}
{%- set keys = report_grain_keys(grain) %}

{{ grain }}_series as (
    select * from {{ ref(model) }}
),

{{ grain }}_counts as (
    select
        {{ keys | join(',\n        ') }},
        {{ dbt.date_trunc('hour', 'event_ts') }} as hour_start,
        {{ event_count_aggregates() }},
        {%- for metric in report_metrics() if metric.hourly %}
        {%- if metric.kind == 'message' %}
        count(distinct case when {{ event_matches(report_metric(metric.of_event)) }} then {{ dbt.concat(['execution_id', "'|'", 'message_id']) }} end)
            as {{ metric.name }}
        {%- else %}
        {{ count_where(event_matches(metric) ~ ' and offer_id is not null') }} as {{ metric.name }}
        {%- endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from window_events
    group by {{ keys | join(', ') }}, {{ dbt.date_trunc('hour', 'event_ts') }}
),

{{ grain }}_feedback_ordered as (
    select
        {{ keys | join(',\n        ') }},
        event_type,
        event_ts,
        lead(event_ts) over (
            partition by campaign_id, execution_id, channel, message_id
            order by {{ feedback_order_key('event_ts', 'event_type') }}
        ) as next_feedback_at
    from window_events
    where event_source = 'feedback'
),

{{ grain }}_retries as (
    select
        {% for key in keys -%}
        {{ grain }}_feedback_ordered.{{ key }},
        {% endfor -%}
        hours.hour_start,
        count(*) as retries
    from {{ grain }}_feedback_ordered
    inner join hours
        on
            {{ grain }}_feedback_ordered.event_ts < {{ dbt.dateadd('hour', 1, 'hours.hour_start') }}
            and (
                {{ grain }}_feedback_ordered.next_feedback_at is null
                or {{ grain }}_feedback_ordered.next_feedback_at >= {{ dbt.dateadd('hour', 1, 'hours.hour_start') }}
            )
    where {{ grain }}_feedback_ordered.event_type = 'retry'
    group by {% for key in keys %}{{ grain }}_feedback_ordered.{{ key }}, {% endfor %}hours.hour_start
),

{{ grain }}_mismatches as (
    select
        '{{ grain }}' as grain,
        {{ keys | join(',\n        ') }},
        hour_start
    from (
        select
            {% for key in keys -%}
            {{ grain }}_series.{{ key }},
            {% endfor -%}
            {{ grain }}_series.hour_start,
            {%- for metric in metrics %}
            {{ grain }}_series.{{ metric.name }} != coalesce({{ grain }}_counts.{{ metric.name }}, 0)
            {%- if not loop.last %} or {% endif %}
            {%- endfor %}
            or {{ grain }}_series.retries != coalesce({{ grain }}_retries.retries, 0) as differs
        from {{ grain }}_series
        left join {{ grain }}_counts
            on
                {% for key in keys -%}
                {{ grain }}_series.{{ key }} = {{ grain }}_counts.{{ key }}
                and {% endfor -%}
                {{ grain }}_series.hour_start = {{ grain }}_counts.hour_start
        left join {{ grain }}_retries
            on
                {% for key in keys -%}
                {{ grain }}_series.{{ key }} = {{ grain }}_retries.{{ key }}
                and {% endfor -%}
                {{ grain }}_series.hour_start = {{ grain }}_retries.hour_start
    ) as compared
    where differs
),
{%- endfor %}

-- Every hour with events is in the series (the series has a row per report row and hour).
unmatched_counts as (
    select
        'delivery hour missing' as grain,
        delivery_counts.campaign_id,
        delivery_counts.execution_id,
        delivery_counts.channel,
        delivery_counts.hour_start
    from delivery_counts
    left join delivery_series
        on
            delivery_counts.campaign_id = delivery_series.campaign_id
            and delivery_counts.execution_id = delivery_series.execution_id
            and delivery_counts.channel = delivery_series.channel
            and delivery_counts.hour_start = delivery_series.hour_start
    where delivery_series.hour_start is null
),

final as (
    select grain, campaign_id, execution_id, channel, hour_start from delivery_mismatches
    union all
    select grain, campaign_id, null as execution_id, channel, hour_start from channel_mismatches
    union all
    select grain, campaign_id, execution_id, channel, hour_start from unmatched_counts
)

select * from final
