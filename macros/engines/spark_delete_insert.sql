{#- `delete+insert` on Spark with Parquet tables, which have neither DELETE nor MERGE: the
    incremental facts keep their DuckDB/PostgreSQL strategy name and config, and on Spark
    the same contract (every existing row whose unique_key is in the batch is replaced by
    the batch's rows for that key) is carried out by rewriting partitions.

    * Partitioned (config partition_by, one column, e.g. the event date): the batch is
      staged as a table; the touched partitions are those of the batch's rows and those of
      the rows they replace; `insert overwrite ... partition (...)` with dynamic partition
      overwrite rewrites exactly those partitions as (their rows whose key is not in the
      batch) + (the batch's rows in them). Partitions left with no row are dropped. Every
      other partition is not read or written: a refresh costs what it touches.
    * Unpartitioned (small tables such as fct_deliveries): the whole table is rewritten
      from a staged copy of (rows not in the batch) + the batch.

    dbt-spark's incremental materialization knows only append, insert_overwrite, merge and
    microbatch; the two macros below (same names as dbt-spark's, so the root project's win)
    add delete+insert and keep append, insert_overwrite and merge as dbt-spark runs them. -#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy not in ['append', 'merge', 'insert_overwrite', 'delete+insert'] -%}
        {{ exceptions.raise_compiler_error(
            "Invalid incremental strategy provided: " ~ raw_strategy ~ "; expected one of 'append', 'merge', 'insert_overwrite', 'delete+insert'"
        ) }}
    {%- endif -%}
    {%- if raw_strategy == 'merge' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {{ exceptions.raise_compiler_error("Invalid incremental strategy merge: only with file_format delta, iceberg or hudi") }}
    {%- endif -%}
    {{ return(raw_strategy) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'delete+insert' -%}
        {{ spark_partition_rewrite_sql(source, target, unique_key) }}
    {%- elif strategy == 'append' -%}
        {{ get_insert_into_sql(source, target) }}
    {%- elif strategy == 'insert_overwrite' -%}
        {{ get_insert_overwrite_sql(source, target, existing) }}
    {%- else -%}
        {{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}

{#- Contracts on Spark: column names and types are enforced as everywhere, but a Parquet
    table cannot hold a NOT NULL constraint (ALTER COLUMN ... SET NOT NULL is Delta and
    Iceberg only), so on Parquet it is skipped: the marts' not-null columns are still
    checked by comparison with DuckDB's marts (tests/engines). Delta/Iceberg: as dbt-spark. -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) -%}
    {%- if config.get('file_format', 'parquet') in ['delta', 'iceberg'] -%}
        {%- for column_name in column_dict -%}
            {%- for constraint in column_dict[column_name]['constraints'] if constraint.type == 'not_null' -%}
                {%- call statement() -%}
                    alter table {{ relation }} change column {{ adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name }} set not null
                {%- endcall -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Runs the rewrite (the statements before the last one run here, in order) and returns the
    last statement, which the materialization runs as its main statement. -#}
{% macro spark_partition_rewrite_sql(source, target, unique_key) -%}
    {%- if unique_key is none or unique_key is not string -%}
        {{ exceptions.raise_compiler_error("delete+insert on Spark needs one unique_key column, got " ~ unique_key) }}
    {%- endif -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if partition_by is not none and partition_by is not string -%}
        {%- if partition_by | length != 1 -%}
            {{ exceptions.raise_compiler_error("delete+insert on Spark supports one partition column, got " ~ partition_by) }}
        {%- endif -%}
        {%- set partition_by = partition_by[0] -%}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- set batch = target.incorporate(path={'identifier': target.identifier ~ '__dbt_batch'}) -%}
    {%- set rebuilt = target.incorporate(path={'identifier': target.identifier ~ '__dbt_rebuilt'}) -%}
    {%- if execute -%}
        {%- do run_query('drop table if exists ' ~ batch) -%}
        {%- do run_query('create table ' ~ batch ~ ' using parquet as select * from ' ~ source) -%}
        {%- if partition_by -%}
            {%- set replaced_partitions -%}
                select {{ partition_by }} from {{ target }}
                where {{ unique_key }} in (select batch_keys.{{ unique_key }} from {{ batch }} as batch_keys)
            {%- endset -%}
            {#- A partition whose every row is replaced and that gets no new row would keep its old
                rows under dynamic overwrite (only partitions present in the output are
                rewritten): drop it. -#}
            {%- set emptied = run_query(
                'select distinct ' ~ partition_by ~ ' from (' ~ replaced_partitions ~ ') as replaced'
                ~ ' where ' ~ partition_by ~ ' not in (select kept.' ~ partition_by ~ ' from ' ~ target ~ ' as kept'
                ~ ' where kept.' ~ unique_key ~ ' not in (select batch_keys.' ~ unique_key ~ ' from ' ~ batch ~ ' as batch_keys))'
                ~ ' and ' ~ partition_by ~ ' not in (select new_rows.' ~ partition_by ~ ' from ' ~ batch ~ ' as new_rows)'
            ) -%}
            {%- for row in emptied.rows if row[0] is not none -%}
                {%- do run_query('alter table ' ~ target ~ " drop if exists partition (" ~ partition_by ~ " = '" ~ row[0] ~ "')") -%}
            {%- endfor -%}
            {%- do run_query('set spark.sql.sources.partitionOverwriteMode = DYNAMIC') -%}
            {%- set rewrite -%}
                insert overwrite table {{ target }} partition ({{ partition_by }})
                select {{ columns }} from (
                    select {{ columns }} from {{ target }}
                    where
                        {{ partition_by }} in (
                            select new_rows.{{ partition_by }} from {{ batch }} as new_rows
                            union
                            {{ replaced_partitions }}
                        )
                        and {{ unique_key }} not in (select batch_keys.{{ unique_key }} from {{ batch }} as batch_keys)
                    union all
                    select {{ columns }} from {{ batch }}
                ) as partitions_rewritten
            {%- endset -%}
            {%- do run_query(rewrite) -%}
        {%- else -%}
            {%- do run_query('drop table if exists ' ~ rebuilt) -%}
            {%- set rebuild -%}
                create table {{ rebuilt }} using parquet as
                select {{ columns }} from {{ target }}
                where {{ unique_key }} not in (select batch_keys.{{ unique_key }} from {{ batch }} as batch_keys)
                union all
                select {{ columns }} from {{ batch }}
            {%- endset -%}
            {%- do run_query(rebuild) -%}
            {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ rebuilt) -%}
            {%- do run_query('drop table if exists ' ~ rebuilt) -%}
        {%- endif -%}
    {%- endif -%}
    drop table if exists {{ batch }}
{%- endmacro %}

{#- The partition column of a fact on Spark, as a leading select item (with its comma);
    nothing on other engines, whose tables are not partitioned. -#}
{% macro partition_date_column(timestamp_sql, name) -%}
    {{ return(adapter.dispatch('partition_date_column')(timestamp_sql, name)) }}
{%- endmacro %}

{% macro default__partition_date_column(timestamp_sql, name) -%}
{%- endmacro %}

{% macro spark__partition_date_column(timestamp_sql, name) -%}
    cast({{ timestamp_sql }} as date) as {{ name }},
{%- endmacro %}
