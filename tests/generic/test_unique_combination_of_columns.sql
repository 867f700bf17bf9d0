{#- Fails with each combination of `combination_of_columns` that appears more than once.
    On a table function (period_*_between: DuckDB table macros, PostgreSQL SQL functions), called_over_all_history
    calls it with a range wider than any data (plus function_extra_arguments), so the key
    holds for what the function returns over all history. -#}
{% test unique_combination_of_columns(model, combination_of_columns, called_over_all_history=false, function_extra_arguments=[]) %}
{%- if called_over_all_history -%}
    {%- set arguments = [
        "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")",
        "cast('3000-01-01' as " ~ dbt.type_timestamp() ~ ")",
    ] + function_extra_arguments -%}
    {%- set rows = model.include(database=false) ~ '(' ~ (arguments | join(', ')) ~ ')' -%}
{%- else -%}
    {%- set rows = model -%}
{%- endif %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ rows }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
