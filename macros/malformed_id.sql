{#- An id that no real export produces and that would be dangerous downstream: longer than
    255 characters, holding control characters (NUL, newline, ...), or starting with '='
    (a spreadsheet formula when a report is exported to CSV). Rejected as invalid_<column>. -#}
{% macro malformed_id(column) -%}
    {{ return(adapter.dispatch('malformed_id')(column)) }}
{%- endmacro %}

{% macro default__malformed_id(column) -%}
    (length({{ column }}) > 255 or {{ has_control_characters(column) }} or {{ column }} like '=%')
{%- endmacro %}

{#- A control character (NUL, newline, tab, DEL...) anywhere in the value. -#}
{% macro has_control_characters(column) -%}
    {{ return(adapter.dispatch('has_control_characters')(column)) }}
{%- endmacro %}

{% macro default__has_control_characters(column) -%}
    {{ column }} ~ '[[:cntrl:]]'
{%- endmacro %}

{% macro duckdb__has_control_characters(column) -%}
    regexp_matches({{ column }}, '[\x00-\x1f\x7f]')
{%- endmacro %}

{% macro spark__has_control_characters(column) -%}
    {{ column }} rlike '[\\x00-\\x1f\\x7f]'
{%- endmacro %}
