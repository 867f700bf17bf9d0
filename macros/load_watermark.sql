{#- The load watermark of an incremental model: the newest load time ({{ column }}, the
    model's own copy of _loaded_at) it has already processed, as a scalar subquery on
    {{ this }}; 1900-01-01 while the model is empty. An incremental run re-derives every
    row touched by a load newer than it. With lookback_minutes (a number), the watermark
    moves that many minutes back, so those minutes of earlier loads are re-derived too. -#}
{% macro load_watermark(column='last_loaded_at', lookback_minutes=none) -%}
    {%- set newest = "coalesce(max(processed." ~ column ~ "), cast('1900-01-01' as " ~ dbt.type_timestamp() ~ "))" -%}
    (select {{ newest if lookback_minutes is none else dbt.dateadd('minute', -1 * lookback_minutes, newest) }} from {{ this }} as processed)
{%- endmacro %}
