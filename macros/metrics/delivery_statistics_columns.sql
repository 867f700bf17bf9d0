{#- The delivery statistics a report shows, in one order: the counts of report_metrics()
    flagged `report` (or `breakdown`, for a per-domain or per-platform breakdown), then the
    rates. `relation` qualifies the columns after a join. -#}
{% macro delivery_statistics_columns(relation=none, flag='report') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for metric in report_metrics() if metric[flag] %}
    {{ prefix }}{{ metric.name }},
    {%- endfor %}
    {{ delivery_rates(relation) }}
{%- endmacro %}

{#- The period report's audience and execution statistics, over a relation holding the
    delivery statistics. -#}
{% macro execution_statistics_columns(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}targeted as initial_audience,
    {{ prefix }}excluded as rejected_by_rules,
    {{ prefix }}targeted - {{ prefix }}excluded as messages_to_deliver,
    {{ prefix }}delivered as success,
    {{ safe_divide(prefix ~ 'delivered', prefix ~ 'targeted - ' ~ prefix ~ 'excluded') }} as success_rate,
    {{ safe_divide(prefix ~ 'errors', prefix ~ 'targeted - ' ~ prefix ~ 'excluded') }} as error_rate,
    {{ safe_divide(prefix ~ 'new_quarantines', prefix ~ 'targeted - ' ~ prefix ~ 'excluded') }} as new_quarantine_rate
{%- endmacro %}
