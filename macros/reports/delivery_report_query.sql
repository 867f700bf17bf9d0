{#- The delivery report of a window (report_window.sql), at a grain: one row per delivery,
    or per campaign x channel (a channel tab's KPI tiles). Every metric of
    report_metrics() flagged `report` over the window's events (the contract's counts, the
    pages' recipient counts, the period report's audience and execution statistics) and
    its rates. The live delivery statistics, the period delivery report and
    period_delivery_report_between all render this one query. -#}
{% macro delivery_report_query(window, grain='delivery') -%}
{%- set keys = report_grain_keys(grain) -%}
{%- set delivery_keys = report_grain_keys('delivery') -%}
{%- set adds_up = window_adds_up_delivery_hours(window) -%}
with

{% if adds_up -%}
-- The window's delivery hours add up its event counts and times, and the message-kind
-- counts of its one-hour messages; only the messages active in several hours are rolled
-- up (a message's window row is then not one hour row); distinct profiles are counted over
-- both kinds of messages. Equal to rolling up every message of the window.
delivery_hours as (
    select * from {{ window_input(window, 'delivery_hours') }} as delivery_hours_in_window
),

several_hour_messages as (
    select * from {{ window_input(window, 'several_hour_messages') }} as several_hour_messages_in_window
),

one_hour_messages as (
    select * from {{ window_input(window, 'one_hour_messages') }} as one_hour_messages_in_window
),
{%- else -%}
messages as (
    select * from {{ window_input(window, 'messages') }} as messages_in_window
),
{%- endif %}

first_hard_bounces as (
    select * from {{ unqualified_ref('fct_recipient_quarantines') }}
    where {{ window_contains(window, 'quarantined_at') }}
),

link_clicks as (
    select * from {{ window_input(window, 'link_clicks') }} as link_clicks_in_window
),

campaigns as (
    select
        campaign_id,
        campaign_name
    from {{ unqualified_ref('dim_campaigns') }}
),

{% if grain == 'delivery' -%}
delivery_starts as (
    select
        campaign_id,
        execution_id,
        channel,
        execution_started_at
    from {{ unqualified_ref('fct_deliveries') }}
),

{% endif -%}
{% if adds_up -%}
-- Three parts, each read once (a relation read twice is materialised whole): the delivery
-- hours (event counts, times, one-hour messages' message-kind counts); the several-hour
-- messages' message-kind counts and profiles; the one-hour messages' profiles.
{%- set profile_columns = report_metrics_of_kind('profile') | map(attribute='column') | unique | list %}
delivery_parts as (
    select
        {{ delivery_keys | join(',\n        ') }},
        {%- for column in profile_columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        {%- for metric in report_metrics() if metric.kind in ('event', 'message') %}
        {{ sum_count(('one_hour_' if metric.kind == 'message' else '') ~ metric.name) }} as {{ metric.name }},
        {%- endfor %}
        min(first_feedback_at) as first_feedback_at,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        max(hour_last_loaded_at) as last_loaded_at
    from delivery_hours
    group by {{ delivery_keys | join(', ') }}

    union all

    select
        {{ delivery_keys | join(',\n        ') }},
        {%- for column in profile_columns %}
        {{ column }},
        {%- endfor %}
        {%- for metric in report_metrics() if metric.kind in ('event', 'message') %}
        {%- if metric.kind == 'event' %}
        0 as {{ metric.name }},
        {%- else %}
        {{ count_where(metric.condition) }} as {{ metric.name }},
        {%- endif %}
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as first_feedback_at,
        cast(null as {{ dbt.type_timestamp() }}) as first_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_loaded_at
    from several_hour_messages
    group by {{ (delivery_keys + profile_columns) | join(', ') }}

    union all

    select
        {{ delivery_keys | join(',\n        ') }},
        {%- for column in profile_columns %}
        {{ column }},
        {%- endfor %}
        {%- for metric in report_metrics() if metric.kind in ('event', 'message') %}
        0 as {{ metric.name }},
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as first_feedback_at,
        cast(null as {{ dbt.type_timestamp() }}) as first_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_loaded_at
    from one_hour_messages
    where {{ profile_columns | join(' is not null or ') }} is not null
),

messages_aggregated as (
    select
        {{ keys | join(',\n        ') }},
        {%- if grain == 'channel' %}
        count(distinct execution_id) as executions,
        {%- endif %}
        {%- for metric in report_metrics() if metric.kind in ('event', 'message', 'profile') %}
        {%- if metric.kind == 'profile' %}
        count(distinct {{ metric.column }}) as {{ metric.name }},
        {%- else %}
        {{ sum_count(metric.name) }} as {{ metric.name }},
        {%- endif %}
        {%- endfor %}
        min(first_feedback_at) as first_feedback_at,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        max(last_loaded_at) as last_loaded_at
    from delivery_parts
    group by {{ keys | join(', ') }}
),
{%- else -%}
messages_aggregated as (
    select
        {{ keys | join(',\n        ') }},
        {%- if grain == 'channel' %}
        count(distinct execution_id) as executions,
        {%- endif %}
        {{ delivery_metric_aggregates() }}
    from messages
    group by {{ keys | join(', ') }}
),
{%- endif %}

quarantines_counted as (
    select
        {{ keys | join(',\n        ') }},
        count(*) as new_quarantines
    from first_hard_bounces
    group by {{ keys | join(', ') }}
),

forwards_estimated as (
    select
        {{ keys | join(',\n        ') }},
        {{ estimated_forwards_aggregate() }} as estimated_forwards
    from link_clicks
    group by {{ keys | join(', ') }}
),

counts_joined as (
    select
        messages_aggregated.*,
        coalesce(quarantines_counted.new_quarantines, 0) as new_quarantines,
        coalesce(forwards_estimated.estimated_forwards, 0) as estimated_forwards
    from messages_aggregated
    left join quarantines_counted
        on
            {% for key in keys -%}
            messages_aggregated.{{ key }} = quarantines_counted.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
    left join forwards_estimated
        on
            {% for key in keys -%}
            messages_aggregated.{{ key }} = forwards_estimated.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
),

metrics_derived as (
    select
        *,
        {{ delivery_derived_metrics() }}
    from counts_joined
),

final as (
    select
        -- ids
        {% for key in keys -%}
        metrics_derived.{{ key }},
        {% endfor -%}
        coalesce(campaigns.campaign_name, metrics_derived.campaign_id) as campaign_name,
        -- window and timestamps
        {{ window_bounds_columns(window) }},
        {% if grain == 'delivery' -%}
        delivery_starts.execution_started_at,
        coalesce({{ window_contains(window, 'delivery_starts.execution_started_at') }}, false) as is_sent_in_window,
        {%- else -%}
        metrics_derived.executions,
        {%- endif %}
        -- counts and rates
        {{ delivery_statistics_columns('metrics_derived') }}
    from metrics_derived
    left join campaigns
        on metrics_derived.campaign_id = campaigns.campaign_id
    {% if grain == 'delivery' -%}
    inner join delivery_starts
        on
            metrics_derived.campaign_id = delivery_starts.campaign_id
            and metrics_derived.execution_id = delivery_starts.execution_id
            and metrics_derived.channel = delivery_starts.channel
    {%- endif %}
)

select * from final
{%- endmacro %}
