{#- The load watermark of an incremental model: the newest load time ({{ column }}, the
    model's own copy of _loaded_at) it has already processed; 1900-01-01 while the model is
    empty. An incremental run re-derives every row touched by a load newer than it. With
    lookback_minutes (a number), the watermark moves that many minutes back, so those
    minutes of earlier loads are re-derived too.

    When dbt executes the model, the watermark is read from {{ this }} just before the
    model's query runs (dbt compiles a node right before it runs it, so this is the same
    value the query would read) and written into the query as a constant: a comparison
    with a constant is a filter the engine pushes into the scan, where the row groups'
    min/max (DuckDB zone maps) skip every row group loaded earlier. A scalar subquery in
    its place is evaluated at run time and every row of history is read and compared.
    Without execute (parse, docs), or in a unit test (where {{ this }} is a fixture of the
    test's query), it stays the scalar subquery on {{ this }}. -#}
{% macro load_watermark(column='last_loaded_at', lookback_minutes=none) -%}
    {%- set newest = "coalesce(max(processed." ~ column ~ "), cast('1900-01-01' as " ~ dbt.type_timestamp() ~ "))" -%}
    {#- No lookback (none or 0) is the newest load time itself: Spark's dateadd goes through
        epoch seconds and would drop its microseconds, so every run, even one with nothing
        new, re-derived the last load's messages (one needless MERGE per fact per run). #}
    {%- set expression = newest if lookback_minutes in [none, 0] else dbt.dateadd('minute', -1 * lookback_minutes, newest) -%}
    {%- if execute and model.resource_type == 'model' -%}
    {{ constant_timestamp('select ' ~ expression ~ ' from ' ~ this ~ ' as processed') }}
    {%- else -%}
    (select {{ expression }} from {{ this }} as processed)
    {%- endif -%}
{%- endmacro %}

{#- The one timestamp `query` returns (one row, one column), run now, as a constant of
    the query being compiled: cast('<value to the microsecond>' as timestamp). A null
    result is rendered `fallback` (a SQL expression). Only when dbt executes (execute). -#}
{% macro constant_timestamp(query, fallback='null') -%}
    {%- set value = run_query('select cast((' ~ query ~ ') as ' ~ dbt.type_string() ~ ')').columns[0].values()[0] -%}
    {%- if value is none -%}
    {{ fallback }}
    {%- else -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- A fct_message_hours row whose targeting changed since `watermark`: a targeting row
    (targeted_profile_id not null) of an hour that gained events. A profile's span and
    its hour's single_hour_profiles depend on its targeting rows only, and a message's
    message_targeted_hours changes only with a new targeting row, so a late open or click
    into an old message touches no profile (fct_delivery_hours, fct_delivery_profile_spans). -#}
{% macro targeting_row_changed(watermark) -%}
    last_loaded_at > {{ watermark }} and targeted_profile_id is not null
{%- endmacro %}
