{#- Delta Lake upkeep on Spark: `dbt run-operation delta_maintenance` compacts (OPTIMIZE) and
    cleans (VACUUM) every Delta table the project builds (docs/engines.md, "Delta upkeep",
    gives the cadence).

    * OPTIMIZE rewrites a table's small files into large ones, in one commit (readers see
      the table before or after). Each incremental MERGE adds files to the partitions it
      touches, so a table refreshed every few minutes gathers small files there.
      `recent_days: N` limits it to the last N days' partitions of the tables partitioned
      by a date (the files the day's merges wrote); unpartitioned tables are done whole.
    * VACUUM deletes the files no version within `retain_hours` needs (default 168, Delta's
      own minimum without an override): a reader's query that started on a version older
      than that would fail, and time travel stops there.
    Arguments: recent_days (default none: every partition), retain_hours (168),
    optimize (true), vacuum (true), models (default none: every model; else a list of
    model names). -#}
{% macro delta_maintenance(recent_days=none, retain_hours=168, optimize=true, vacuum=true, models=none) -%}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("delta_maintenance runs on the Spark target only (DBT_TARGET=spark)") }}
    {%- endif -%}
    {%- if recent_days is not none and not modules.re.fullmatch('[0-9]+', recent_days | string) -%}
        {{ exceptions.raise_compiler_error("delta_maintenance: recent_days must be a whole number of days, got " ~ recent_days) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]+', retain_hours | string) -%}
        {{ exceptions.raise_compiler_error("delta_maintenance: retain_hours must be a whole number of hours, got " ~ retain_hours) }}
    {%- endif -%}
    {%- if models is not none and (models is string or models is not iterable) -%}
        {{ exceptions.raise_compiler_error("delta_maintenance: models must be a list of model names, got " ~ models) }}
    {%- endif -%}
    {%- set done = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized in ['table', 'incremental']
        and (models is none or node.name in models) -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is not none and relation.is_delta -%}
            {%- set partition_by = node.config.partition_by -%}
            {%- set partition_column = partition_by if partition_by is string else (partition_by[0] if partition_by else none) -%}
            {%- if optimize -%}
                {%- set recent = '' -%}
                {%- if recent_days is not none and partition_column -%}
                    {%- set recent = ' where ' ~ partition_column ~ ' >= date_sub(current_date(), ' ~ recent_days ~ ')' -%}
                {%- endif -%}
                {%- do run_query('optimize ' ~ relation ~ recent) -%}
            {%- endif -%}
            {%- if vacuum -%}
                {%- do run_query('vacuum ' ~ relation ~ ' retain ' ~ retain_hours ~ ' hours') -%}
            {%- endif -%}
            {%- do done.append(relation | string) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ log('delta_maintenance: ' ~ done | length ~ ' Delta tables ('
        ~ ('optimize' if optimize else '') ~ (' and ' if optimize and vacuum else '') ~ ('vacuum' if vacuum else '') ~ ')', info=true) }}
{%- endmacro %}
