{#- Rows of `day` (a date), one per day from start_date to end_date inclusive: the spine
    that keeps empty days in daily series as zeros. Arguments are SQL date expressions. -#}
{% macro day_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_series')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_series(start_date, end_date) -%}
    select cast(day_start as date) as day
    from generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '1 day') as days (day_start)
{%- endmacro %}

{% macro duckdb__day_series(start_date, end_date) -%}
    select cast(unnest(generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date) as day
{%- endmacro %}

{% macro spark__day_series(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as day
{%- endmacro %}
