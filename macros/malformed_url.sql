{#- A tracked URL must be absolute (a scheme, then ':': https:, mailto:, tel:, myapp:) and
    free of control characters. Anything else, a formula such as =HYPERLINK(...) above all,
    is rejected as invalid_url rather than shown in a top-links report or an export. -#}
{% macro malformed_url(column) -%}
    {{ return(adapter.dispatch('malformed_url')(column)) }}
{%- endmacro %}

{% macro default__malformed_url(column) -%}
    ({{ column }} !~ '^[A-Za-z][A-Za-z0-9+.-]*:' or {{ has_control_characters(column) }})
{%- endmacro %}

{% macro duckdb__malformed_url(column) -%}
    (not regexp_matches({{ column }}, '^[A-Za-z][A-Za-z0-9+.-]*:') or {{ has_control_characters(column) }})
{%- endmacro %}

{% macro spark__malformed_url(column) -%}
    (not {{ column }} rlike '^[A-Za-z][A-Za-z0-9+.-]*:' or {{ has_control_characters(column) }})
{%- endmacro %}
