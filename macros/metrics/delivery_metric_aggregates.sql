{#- Aggregates of a window's message rows (message_activity_columns) to one row per
    delivery or campaign tab; the caller groups. Event counts add up; message metrics
    count the messages meeting their condition (distinct messages, per the contract);
    profile metrics count distinct profiles. -#}
{% macro delivery_metric_aggregates() -%}
    {%- for metric in report_metrics() if metric.kind in ('event', 'message', 'profile') %}
    {%- if metric.kind == 'event' %}
    {{ sum_count(metric.name) }} as {{ metric.name }},
    {%- elif metric.kind == 'message' %}
    {{ count_where(metric.condition) }} as {{ metric.name }},
    {%- else %}
    count(distinct {{ metric.column }}) as {{ metric.name }},
    {%- endif %}
    {%- endfor %}
    min(first_feedback_at) as first_feedback_at,
    min(first_event_at) as first_event_at,
    max(last_event_at) as last_event_at,
    max(last_loaded_at) as last_loaded_at
{%- endmacro %}

{#- The derived metrics, over the aggregates above (select from a relation holding them). -#}
{% macro delivery_derived_metrics() -%}
    {%- for metric in report_metrics_of_kind('derived') %}
    {{ metric.expression }} as {{ metric.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The rates of report_rates(). -#}
{% macro delivery_rates(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for rate in report_rates() %}
    {{ safe_divide(prefix ~ rate.numerator, prefix ~ rate.denominator) }} as {{ rate.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
