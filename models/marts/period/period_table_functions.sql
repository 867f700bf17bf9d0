-- One row per table function of the warehouse (period_*_between): its name, its
-- arguments, and what it returns. BI tools list relations, not functions: this is where a
-- user finds them; the publish step reads it to re-create them in the serving file.
{{ config(tags=['serving_functions']) }}
{%- set functions = [] %}
{%- if execute %}
{%- for node in graph.nodes.values() | sort(attribute='name') %}
{%- if node.resource_type == 'model' and node.config.materialized == 'table_function' %}
{%- do functions.append(node) %}
{%- endif %}
{%- endfor %}
{%- endif %}

with

functions as (
    {%- for node in functions %}
    select
        '{{ node.name }}' as function_name,
        '{{ node.config.get("arguments", period_function_arguments()) | join(", ") | replace("'", "''") }}' as arguments,
        '{{ node.name | replace("_between", "") | replace("_as_of", "") }}' as static_relation,
        '{{ node.description | replace("\n", " ") | replace("'", "''") | trim }}' as description
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as function_name,
        cast(null as {{ dbt.type_string() }}) as arguments,
        cast(null as {{ dbt.type_string() }}) as static_relation,
        cast(null as {{ dbt.type_string() }}) as description
    where false
    {%- endfor %}
)

select * from functions
