{#- The statistics a report shows, in one order: the metrics of report_metrics() flagged
    `report` (or `breakdown`, for a per-domain or per-platform breakdown), then the rates
    flagged the same way. `relation` qualifies the columns after a join. -#}
{% macro delivery_statistics_columns(relation=none, flag='report') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for metric in report_metrics() if metric[flag] %}
    {{ prefix }}{{ metric.name }},
    {%- endfor %}
    {{ delivery_rates(relation, flag) }}
{%- endmacro %}
