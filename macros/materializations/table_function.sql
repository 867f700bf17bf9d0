{#- A model whose SQL is the body of a table function: on DuckDB a table macro (on
    PostgreSQL a SQL function, below)
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

{#- PostgreSQL: a SQL function per report, `<schema>.<model>(period_start, period_end,
    report_timezone default 'UTC')`, returning the report's rows (`returns table`), from the
    same body. Its arguments are positional ($1, $2, $3: named ones would clash with the
    result columns period_start and period_end) and text, read as on DuckDB
    (postgres__period_argument_utc); overloads for (date, date), (timestamp, timestamp) and
    (timestamptz, timestamptz) pass them on as text of the same meaning. The result columns
    and their types are the body's own, read from a temporary view of it with NULL
    arguments. All of it in the model's transaction: a reader sees the old functions or
    the new ones. -#}
{% materialization table_function, adapter='postgres' %}
    {%- set target = this -%}
    {%- set probe = this.identifier ~ '__dbt_probe' -%}
    {{ run_hooks(pre_hooks) }}
    {%- do adapter.create_schema(this) -%}
    {%- set probe_sql = modules.re.sub('\\$3(?![0-9])', "cast('UTC' as text)", modules.re.sub('\\$[12](?![0-9])', 'cast(null as text)', sql)) -%}
    {%- call statement('probe') -%}
        create temporary view {{ probe }} as {{ probe_sql }}
    {%- endcall -%}
    {%- set columns = run_query(
        "select quote_ident(attname) || ' ' || format_type(atttypid, atttypmod) from pg_attribute"
        ~ " where attrelid = 'pg_temp." ~ probe ~ "'::regclass and attnum > 0 and not attisdropped order by attnum"
    ).columns[0].values() -%}
    {%- call statement('drop_probe') -%}
        drop view {{ probe }}
    {%- endcall -%}
    {%- set returns = 'returns table (' ~ columns | join(', ') ~ ') language sql stable' -%}
    {%- set overloads = {
        'date': "to_char($1, 'YYYY-MM-DD'), to_char($2, 'YYYY-MM-DD')",
        'timestamp': "to_char($1, 'YYYY-MM-DD HH24:MI:SS.US'), to_char($2, 'YYYY-MM-DD HH24:MI:SS.US')",
        'timestamptz': "to_char($1 at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), to_char($2 at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    } -%}
    {% call statement('main') -%}
        drop function if exists {{ target }}(text, text, text) cascade;
        {%- for type in overloads %}
        drop function if exists {{ target }}({{ type }}, {{ type }}, text);
        {%- endfor %}
        create function {{ target }}(text, text, text default 'UTC') {{ returns }} as $dbt_body$
        {{ sql }}
        $dbt_body$;
        {%- for type, as_text in overloads.items() %}
        create function {{ target }}({{ type }}, {{ type }}, text default 'UTC') {{ returns }} as $dbt_body$
            select * from {{ target }}({{ as_text }}, $3)
        $dbt_body$;
        {%- endfor %}
        {%- if config.persist_relation_docs() and model.description %}
        comment on function {{ target }}(text, text, text) is '{{ model.description | replace("'", "''") }}';
        {%- endif %}
    {%- endcall %}
    {{ run_hooks(post_hooks) }}
    {% do adapter.commit() %}
    {{ return({'relations': []}) }}
{% endmaterialization %}

{% materialization table_function, default %}
    {{ exceptions.raise_compiler_error(
        "Table functions (" ~ this ~ ") are implemented for DuckDB and PostgreSQL only; on " ~ adapter.type()
        ~ " exclude them (--exclude config.materialized:table_function) and use the static period marts."
    ) }}
{% endmaterialization %}
