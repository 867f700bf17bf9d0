{#- The raw sources of an engine that reads the lake (tally load --lake DIR:
    DIR/raw/<table>/*.parquet, every contract column as text, _loaded_at a UTC timestamp).
    On Spark, an on-run-start hook declares each raw table over its folder (env LAKE_PATH)
    and refreshes its file listing, so a build sees every load committed before it started
    and dbt sources stay `raw.<table>` on every engine. Other engines: nothing to do (the
    loader writes their raw tables directly). -#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    select 1
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('LAKE_PATH', 'warehouse/lake') -%}
        {%- if not modules.re.fullmatch('[A-Za-z0-9_./:+-]+', lake) -%}
            {{ exceptions.raise_compiler_error("Invalid env LAKE_PATH: expected a path of letters, digits and _ . / : + -, got " ~ (lake | tojson)) }}
        {%- endif -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table, columns in raw_table_columns().items() -%}
            {%- set column_sql = [] -%}
            {%- for column in columns + ['_load_id', '_source_file'] -%}
                {%- do column_sql.append(column ~ ' string') -%}
            {%- endfor -%}
            {%- do column_sql.append('_loaded_at timestamp') -%}
            {%- do run_query(
                'create table if not exists raw.' ~ table ~ ' (' ~ column_sql | join(', ') ~ ") using parquet location '"
                ~ lake ~ '/raw/' ~ table ~ "'"
            ) -%}
            {%- do run_query('refresh table raw.' ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- The raw tables' contract columns, in the loader's order (tally.contract.CONTRACT;
    tests/engines checks the two agree). -#}
{% macro raw_table_columns() -%}
    {%- set event_keys = ['event_id', 'event_ts', 'ingested_at', 'campaign_id', 'execution_id', 'message_id', 'profile_id', 'channel'] -%}
    {{ return({
        'message_feedback_events': event_keys + ['status', 'failure_type', 'reason', 'recipient_address', 'platform', 'experiment_id', 'experiment_name', 'treatment_id', 'treatment_name'],
        'message_tracking_events': event_keys + ['interaction', 'url', 'element_id', 'offer_id', 'platform', 'user_agent', 'is_bot'],
        'offer_propositions': event_keys + ['offer_id'],
        'campaigns': ['campaign_id', 'campaign_name', 'campaign_type', 'created_at', 'ingested_at'],
    }) }}
{%- endmacro %}
