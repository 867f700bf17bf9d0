{#- Feedback statuses ranked for "the last feedback event": on an event_ts tie a final
    outcome beats a retry, and a retry beats the send (docs/decisions.md). -#}
{% macro feedback_status_precedence() -%}
    {{ return({'excluded': 1, 'error': 2, 'sent': 3, 'retry': 4, 'delivered': 5, 'bounce': 6}) }}
{%- endmacro %}

{#- The condition on an int_events_unioned row for an event-count (or offer_event)
    metric; `relation` qualifies the columns after a join. A `human` metric reads the
    row's machine_rule (the events joined to fct_open_click_events, machine_rule_join). -#}
{% macro event_matches(metric, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}event_source = '{{ metric.source }}' and {{ prefix }}event_type = '{{ metric.event_type }}'
    {%- if metric.failure_type is defined %} and {{ prefix }}failure_type = '{{ metric.failure_type }}'{% endif %}
    {%- if metric.human %} and {{ prefix }}machine_rule is null{% endif %}
{%- endmacro %}

{#- One count per event-count metric over unified events; the caller groups. -#}
{% macro event_count_aggregates() -%}
    {%- for metric in event_count_metrics() %}
    {{ count_where(event_matches(metric)) }} as {{ metric.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- One count per metric flagged `hourly` (the live time series, one row per clock hour);
    the caller groups by hour. `source` 'message_hours': the message metrics over message
    hours (rows of message_activity_columns: a row is one message in one hour, so a count
    of rows is a count of distinct messages); 'events': the offer_event metrics over
    unified events (an offer_id, which no hour fact keeps). -#}
{% macro hourly_metric_aggregates(source) -%}
    {%- set kind = {'message_hours': 'message', 'events': 'offer_event'}[source] -%}
    {%- for metric in report_metrics() if metric.hourly and metric.kind == kind %}
    {%- if kind == 'message' %}
    {{ count_where(metric.condition) }} as {{ metric.name }}
    {%- else %}
    {{ count_where(event_matches(metric) ~ ' and offer_id is not null') }} as {{ metric.name }}
    {%- endif %}{% if not loop.last %},{% endif %}
    {%- endfor %}
    {%- for metric in report_metrics() if metric.hourly and metric.kind not in ('message', 'offer_event') %}
    {{ exceptions.raise_compiler_error("metric " ~ metric.name ~ ": no hourly count for kind " ~ metric.kind) }}
    {%- endfor %}
{%- endmacro %}
