{#- Feedback statuses ranked for "the last feedback event": on an event_ts tie a final
    outcome beats a retry, and a retry beats the send (docs/decisions.md). -#}
{% macro feedback_status_precedence() -%}
    {{ return({'excluded': 1, 'error': 2, 'sent': 3, 'retry': 4, 'delivered': 5, 'bounce': 6}) }}
{%- endmacro %}

{#- The condition on an int_events_unioned row for an event-count metric. -#}
{% macro event_matches(metric) -%}
    event_source = '{{ metric.source }}' and event_type = '{{ metric.event_type }}'
    {%- if metric.failure_type is defined %} and failure_type = '{{ metric.failure_type }}'{% endif %}
{%- endmacro %}

{#- One count per event-count metric over unified events; the caller groups. -#}
{% macro event_count_aggregates() -%}
    {%- for metric in event_count_metrics() %}
    {{ count_where(event_matches(metric)) }} as {{ metric.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
