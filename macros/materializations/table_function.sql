{#- A model whose SQL is the body of a table function: on DuckDB a table macro
    `<schema>.<model>(arguments)` (config `arguments`, default period_function_arguments():
    period_start, period_end, report_timezone := 'UTC'),
    which BI tools call as `select * from marts.period_x_between(start, end)`. The body
    must name the relations it reads without their database (unqualified_ref), so the
    function works in any file the marts are copied to (the serving file). The arguments
    are also recorded in the warehouse's table_functions relation (a mart) so the publish
    step and BI users can see each signature. -#}
{% materialization table_function, adapter='duckdb' %}
    {%- set arguments = config.get('arguments', period_function_arguments()) -%}
    {%- set target = this.include(database=false) -%}
    {{ run_hooks(pre_hooks) }}
    {%- do adapter.create_schema(this) -%}
    {% call statement('main') -%}
        create or replace macro {{ target }}({{ arguments | join(', ') }}) as table
        {{ sql }}
    {%- endcall %}
    {%- if config.persist_relation_docs() and model.description %}
    {% call statement('describe') -%}
        comment on macro table {{ target }} is '{{ model.description | replace("'", "''") }}'
    {%- endcall %}
    {%- endif %}
    {{ run_hooks(post_hooks) }}
    {% do adapter.commit() %}
    {{ return({'relations': []}) }}
{% endmaterialization %}

{% materialization table_function, default %}
    {{ exceptions.raise_compiler_error(
        "Table functions (" ~ this ~ ") are implemented for DuckDB only; on " ~ adapter.type()
        ~ " exclude them (--exclude config.materialized:table_function) and use the static period marts."
    ) }}
{% endmaterialization %}
