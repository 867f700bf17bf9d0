{#- An id that no real export produces and that would be dangerous downstream: longer than
    255 characters, holding control characters (NUL, newline, ...), or starting with '='
    (a spreadsheet formula when a report is exported to CSV). Rejected as invalid_<column>. -#}
{% macro malformed_id(column) -%}
    {{ return(adapter.dispatch('malformed_id')(column)) }}
{%- endmacro %}

{% macro default__malformed_id(column) -%}
    (length({{ column }}) > 255 or {{ column }} ~ '[[:cntrl:]]' or {{ column }} like '=%')
{%- endmacro %}

{% macro duckdb__malformed_id(column) -%}
    (length({{ column }}) > 255 or regexp_matches({{ column }}, '[\x00-\x1f\x7f]') or starts_with({{ column }}, '='))
{%- endmacro %}
