{#- `delete+insert` on Spark. The incremental facts keep their DuckDB/PostgreSQL strategy name
    and config, and on Spark the same contract (every existing row whose unique_key is in the
    batch is replaced by the batch's rows for that key) is carried out by the table format's
    own means (var spark_file_format):

    * Delta Lake (the default): one MERGE, so one commit: a reader sees the table before or
      after the run, never between (spark_delta_merge_sql below).
    * Parquet, which has neither DELETE nor MERGE: partition rewrites (spark_partition_rewrite_sql):
      - Partitioned (config partition_by, one column, e.g. the event date): the batch is
        staged as a table; the touched partitions are those of the batch's rows and those of
        the rows they replace; `insert overwrite ... partition (...)` with dynamic partition
        overwrite rewrites exactly those partitions as (their rows whose key is not in the
        batch) + (the batch's rows in them). Partitions left with no row are dropped. Every
        other partition is not read or written: a refresh costs what it touches.
      - Unpartitioned (small tables such as fct_deliveries): the whole table is rewritten
        from a staged copy of (rows not in the batch) + the batch.
      A reader during the rewrite can see a partition missing or twice: no isolation.

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
    {%- if strategy == 'delete+insert' and config.get('file_format', 'parquet') == 'delta' -%}
        {{ spark_delta_merge_sql(source, target, unique_key) }}
    {%- elif strategy == 'delete+insert' -%}
        {{ spark_partition_rewrite_sql(source, target, unique_key) }}
    {%- elif strategy == 'append' -%}
        {{ get_insert_into_sql(source, target) }}
    {%- elif strategy == 'insert_overwrite' -%}
        {{ get_insert_overwrite_sql(source, target, existing) }}
    {%- else -%}
        {{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}

{#- Contracts on Spark: column names and types are enforced as everywhere.
    * Delta: the model's not_null columns become one CHECK constraint, `not_null_columns`,
      declared as the table property `delta.constraints.not_null_columns` of the CREATE OR
      REPLACE ... AS SELECT itself, so Delta checks it on the rows that statement writes and
      on every later write (a MERGE or an append that would store a null fails, naming the
      constraint and the row), at no extra statement. Measured: ALTER TABLE ADD CONSTRAINT
      after the create (dbt-spark's way, one statement per column, `SET NOT NULL`) cost 5-9 s
      a table, one scan and one commit each, and Spark 4 refuses `SET NOT NULL` on a
      nullable column anyway; a CTAS cannot declare a schema.
    * Parquet cannot hold a constraint: none; the marts' not-null columns are still checked
      by comparison with DuckDB's marts (tests/engines). -#}
{% macro spark__tblproperties_clause() -%}
    {%- set properties = dict(config.get('tblproperties') or {}) -%}
    {%- set contract = config.get('contract') -%}
    {%- if config.get('file_format', 'parquet') == 'delta' and contract and contract.enforced -%}
        {%- set not_null_columns = [] -%}
        {%- for column_name, column in model['columns'].items() -%}
            {%- for constraint in column['constraints'] if constraint['type'] == 'not_null' -%}
                {%- do not_null_columns.append(adapter.quote(column_name) if column['quote'] else column_name) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if not_null_columns -%}
            {%- do properties.update({'delta.constraints.not_null_columns': not_null_columns | join(' is not null and ') ~ ' is not null'}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if properties %}
    tblproperties (
        {%- for name in properties %}
        '{{ name }}' = '{{ properties[name] }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}

{#- dbt-spark applies not_null by ALTER after the create; here it is part of the create
    (spark__tblproperties_clause above), so there is nothing left to do. -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) -%}
{%- endmacro %}

{#- The one partition column of a delete+insert model on Spark (none when unpartitioned),
    after checking that the model has one unique_key column and at most one partition column. -#}
{% macro spark_delete_insert_partition(unique_key) -%}
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
    {{ return(partition_by) }}
{%- endmacro %}

{#- delete+insert on a Delta table as one MERGE (one commit: atomic for readers).
    The source holds every batch row, marked 'insert', and one row per batch key, marked
    'delete'. The join matches only 'delete' rows, so every target row whose key is in the
    batch is deleted (several target rows may match one source row; never the reverse), and
    every 'insert' row, which cannot match, is inserted. That is delete+insert exactly,
    whatever the table's grain and whether or not a key's rows changed in number.

    The batch is cached once (the merge and the partition query both read it). The merge runs
    here; the statement returned, which the materialization runs last, drops the cached batch. On a
    partitioned table the join also carries the touched partitions as literals (those of the
    batch's rows and of the rows they replace), so Delta reads and rewrites only files of
    those partitions; within them, only files holding a matched key are rewritten. -#}
{% macro spark_delta_merge_sql(source, target, unique_key) -%}
    {%- set partition_by = spark_delete_insert_partition(unique_key) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) -%}
    {%- set columns = target_columns | map(attribute='quoted') | list -%}
    {%- set batch = source.identifier ~ '__batch' -%}
    {%- set partition_condition = [] -%}
    {%- set ns = namespace(empty=false) -%}
    {%- if execute -%}
        {%- do run_query('cache table ' ~ batch ~ ' as select * from ' ~ source) -%}
        {%- set ns.empty = run_query('select 1 from ' ~ batch ~ ' limit 1').rows | length == 0 -%}
        {%- if partition_by and not ns.empty -%}
            {%- set partition_type = (target_columns | selectattr('name', 'equalto', partition_by) | map(attribute='data_type') | first) or 'date' -%}
            {%- set touched = run_query(
                'select distinct cast(' ~ partition_by ~ ' as string) from ' ~ batch
                ~ ' union select distinct cast(replaced.' ~ partition_by ~ ' as string) from ' ~ target ~ ' as replaced'
                ~ ' left semi join ' ~ batch ~ ' as batch_keys on replaced.' ~ unique_key ~ ' = batch_keys.' ~ unique_key
            ) -%}
            {%- set literals = [] -%}
            {%- set alternatives = [] -%}
            {%- for row in touched.rows -%}
                {%- if row[0] is none -%}
                    {%- do alternatives.append('dbt_target.' ~ partition_by ~ ' is null') -%}
                {%- else -%}
                    {%- do literals.append("cast('" ~ (row[0] | replace("'", "''")) ~ "' as " ~ partition_type ~ ")") -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if literals -%}
                {%- do alternatives.append('dbt_target.' ~ partition_by ~ ' in (' ~ literals | join(', ') ~ ')') -%}
            {%- endif -%}
            {%- do partition_condition.append('(' ~ alternatives | join(' or ') ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- set merge -%}
    merge into {{ target }} as dbt_target
    using (
        select batch_rows.*, dbt_operations.dbt_operation
        from (
            select
                {{ batch }}.*,
                row_number() over (partition by {{ unique_key }} order by {{ unique_key }}) as dbt_key_row
            from {{ batch }}
        ) as batch_rows
        inner join (select 'delete' as dbt_operation union all select 'insert') as dbt_operations
            on dbt_operations.dbt_operation = 'insert' or batch_rows.dbt_key_row = 1
    ) as dbt_source
    on dbt_target.{{ unique_key }} = dbt_source.{{ unique_key }}
        and dbt_source.dbt_operation = 'delete'
        {%- for condition in partition_condition %}
        and {{ condition }}
        {%- endfor %}
    when matched then delete
    when not matched and dbt_source.dbt_operation = 'insert'
        then insert ({{ columns | join(', ') }})
        values ({% for column in columns %}dbt_source.{{ column }}{{ ', ' if not loop.last }}{% endfor %})
    {%- endset -%}
    {%- if execute -%}
        {#- An empty batch (a refresh with nothing new for this table) commits nothing: no
            new version, so readers' cached state stays valid. -#}
        {%- if not ns.empty -%}
            {%- do run_query(merge) -%}
        {%- endif -%}
        {%- do run_query('uncache table if exists ' ~ batch) -%}
    {%- endif -%}
    drop view if exists {{ batch }}
{%- endmacro %}

{#- Runs the rewrite (the statements before the last one run here, in order) and returns the
    last statement, which the materialization runs as its main statement. -#}
{% macro spark_partition_rewrite_sql(source, target, unique_key) -%}
    {%- set partition_by = spark_delete_insert_partition(unique_key) -%}
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

{#- Column comments on Delta in one statement, and only when one differs: dbt-spark's own
    runs one ALTER per column, and on Delta each is a commit (a version, a log file, a
    fixed cost of a few tenths of a second), so a 40-column mart cost 40 commits at every
    build. Parquet tables take no column comment here, as with dbt-spark. -#}
{% macro spark__alter_column_comment(relation, column_dict) -%}
    {%- if config.get('file_format', 'parquet') in ['delta', 'iceberg'] and column_dict -%}
        {%- set current = {} -%}
        {%- for row in run_query('describe table ' ~ relation).rows -%}
            {%- if row[0] and not row[0].startswith('#') and row[0] not in current -%}
                {%- do current.update({row[0]: row[2] or ''}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set changes = [] -%}
        {%- for column_name in column_dict -%}
            {%- set comment = column_dict[column_name]['description'] or '' -%}
            {%- if current.get(column_name) != comment -%}
                {%- do changes.append(
                    (adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name)
                    ~ " comment '" ~ (comment | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if changes -%}
            {%- do run_query('alter table ' ~ relation ~ ' alter column ' ~ changes | join(', ')) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Views on Spark without a column list: dbt-spark's declares every column with its
    comment, and Spark took about a second per column to create such a view (20 s for a
    19-column staging view, 0.2 s without the list), at every build and every live refresh.
    The view keeps its own comment; the columns' descriptions stay in dbt's docs, and the
    marts (tables) carry theirs (spark__alter_column_comment). Otherwise dbt-spark's. -#}
{% macro spark__create_view_as(relation, sql) -%}
    create or replace view {{ relation }}
    {{ comment_clause() }}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config.enforced -%}
        {{ get_assert_columns_equivalent(sql) }}
    {%- endif %}
    as
    {{ sql }}
{%- endmacro %}
