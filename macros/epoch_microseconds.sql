{#- Microseconds since 1970 as a bigint: lets "the last event" be found with a plain max()
    over epoch * 10 + precedence, an aggregate every engine runs in one pass. -#}
{% macro epoch_microseconds(column) -%}
    {{ return(adapter.dispatch('epoch_microseconds')(column)) }}
{%- endmacro %}

{% macro default__epoch_microseconds(column) -%}
    cast(extract(epoch from {{ column }}) * 1000000 as bigint)
{%- endmacro %}

{% macro duckdb__epoch_microseconds(column) -%}
    epoch_us({{ column }})
{%- endmacro %}

{% macro spark__epoch_microseconds(column) -%}
    unix_micros({{ column }})
{%- endmacro %}
