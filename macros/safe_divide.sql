{#- Contract: a rate is null where its denominator is 0. Arguments may be expressions. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then cast(({{ numerator }}) as {{ type_double() }}) / ({{ denominator }}) end
{%- endmacro %}

{#- A 64-bit float in every engine (dbt.type_float() is 32-bit on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}

{% macro duckdb__type_double() -%}double{%- endmacro %}

{% macro spark__type_double() -%}double{%- endmacro %}
