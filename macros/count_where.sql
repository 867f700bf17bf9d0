{#- Number of rows where `condition` holds, as a bigint (DuckDB's sum of integers is a
    128-bit hugeint, which contracts and BI drivers handle badly). -#}
{% macro count_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- Sum of a count column, as a bigint. -#}
{% macro sum_count(column) -%}
    cast(sum({{ column }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
