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

{#- The rates of report_rates() flagged `flag`. -#}
{% macro delivery_rates(relation=none, flag='report') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for rate in report_rates() if rate[flag] %}
    {{ safe_divide(prefix ~ rate.numerator, prefix ~ rate.denominator) }} as {{ rate.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Estimated forwards (the period report's "Estimation des transferts"): over a group of
    link clicks (message_id, user_agent rows), distinct clicking message x user agent pairs
    minus distinct clicking messages, i.e. the devices beyond the first that clicked a
    recipient's message. The platform counts distinct persons (cookies) minus distinct
    recipients who clicked; the user agent is what the contract tracks to tell them apart. -#}
{% macro estimated_forwards_aggregate() -%}
    count(distinct {{ dbt.concat(['execution_id', "'|'", 'message_id', "'|'", "coalesce(user_agent, '')"]) }})
    - count(distinct {{ dbt.concat(['execution_id', "'|'", 'message_id']) }})
{%- endmacro %}
