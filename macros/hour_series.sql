{#- Rows of `hour_start` (a timestamp), one per hour from start to end inclusive; the
    arguments are SQL timestamp expressions. -#}
{% macro hour_series(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('hour_series')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro default__hour_series(start_timestamp, end_timestamp) -%}
    select hour_start
    from generate_series({{ start_timestamp }}, {{ end_timestamp }}, interval '1 hour') as hours (hour_start)
{%- endmacro %}

{% macro duckdb__hour_series(start_timestamp, end_timestamp) -%}
    select unnest(generate_series({{ start_timestamp }}, {{ end_timestamp }}, interval 1 hour)) as hour_start
{%- endmacro %}

{% macro spark__hour_series(start_timestamp, end_timestamp) -%}
    select explode(sequence({{ start_timestamp }}, {{ end_timestamp }}, interval 1 hour)) as hour_start
{%- endmacro %}
