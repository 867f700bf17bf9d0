{#- The value of `value_column` on the row with the greatest `order_column` in a group,
    even when that value is null (the value "of the last event", not the last non-null
    value); rows whose order is null are ignored. -#}
{% macro arg_max(value_column, order_column) -%}
    {{ return(adapter.dispatch('arg_max')(value_column, order_column)) }}
{%- endmacro %}

{% macro default__arg_max(value_column, order_column) -%}
    (array_agg({{ value_column }} order by {{ order_column }} desc nulls last))[1]
{%- endmacro %}

{% macro duckdb__arg_max(value_column, order_column) -%}
    arg_max_null({{ value_column }}, {{ order_column }})
{%- endmacro %}

{% macro spark__arg_max(value_column, order_column) -%}
    max_by({{ value_column }}, {{ order_column }})
{%- endmacro %}
