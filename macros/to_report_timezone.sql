{#- A UTC timestamp as wall-clock time in var report_timezone (validated). -#}
{% macro to_report_timezone(column) -%}
    {{ return(adapter.dispatch('to_report_timezone')(column, report_timezone())) }}
{%- endmacro %}

{% macro default__to_report_timezone(column, tz) -%}
    (({{ column }} at time zone 'UTC') at time zone '{{ tz }}')
{%- endmacro %}

{% macro spark__to_report_timezone(column, tz) -%}
    from_utc_timestamp({{ column }}, '{{ tz }}')
{%- endmacro %}
