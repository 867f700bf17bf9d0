{#- Feedback statuses ranked for "the last feedback event": on an event_ts tie a final
    outcome beats a retry, and a retry beats the send (docs/decisions.md). -#}
{% macro feedback_status_precedence() -%}
    {{ return({'excluded': 1, 'error': 2, 'sent': 3, 'retry': 4, 'delivered': 5, 'bounce': 6}) }}
{%- endmacro %}

{#- The condition on an int_events_unioned row for an event-count (or offer_event)
    metric; `relation` qualifies the columns after a join. -#}
{% macro event_matches(metric, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}event_source = '{{ metric.source }}' and {{ prefix }}event_type = '{{ metric.event_type }}'
    {%- if metric.failure_type is defined %} and {{ prefix }}failure_type = '{{ metric.failure_type }}'{% endif %}
{%- endmacro %}

{#- One count per event-count metric over unified events; the caller groups. -#}
{% macro event_count_aggregates() -%}
    {%- for metric in event_count_metrics() %}
    {{ count_where(event_matches(metric)) }} as {{ metric.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- One count per metric flagged `hourly` over unified events (the live time series, one
    row per clock hour); the caller groups. -#}
{% macro hourly_metric_aggregates() -%}
    {%- for metric in report_metrics() if metric.hourly %}
    {%- if metric.kind == 'message' %}
    count(distinct case when {{ event_matches(report_metric(metric.of_event)) }} then {{ dbt.concat(['execution_id', "'|'", 'message_id']) }} end)
        as {{ metric.name }}
    {%- elif metric.kind == 'offer_event' %}
    {{ count_where(event_matches(metric) ~ ' and offer_id is not null') }}
        as {{ metric.name }}
    {%- else %}
    {{ exceptions.raise_compiler_error("metric " ~ metric.name ~ ": no hourly count for kind " ~ metric.kind) }}
    {%- endif %}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
