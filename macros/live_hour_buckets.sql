{#- Every clock hour that intersects the live window, as rows of `hour_start` (rendered at
    compile time from report_as_of: 24 or 25 literal rows, portable to any engine). Lets
    the time series show empty hours as zeros. -#}
{% macro live_hour_buckets() -%}
    {%- set window = live_report_window() -%}
    {%- set window_start = window.start_at -%}
    {%- set window_end = window.end_at -%}
    {%- set hour = window_start.replace(minute=0, second=0, microsecond=0) -%}
    {%- set hours = [] -%}
    {%- for offset in range(26) -%}
        {%- set bucket = hour + modules.datetime.timedelta(hours=offset) -%}
        {#- The first hour only counts if some of it lies after the (exclusive) window start. -#}
        {%- if bucket <= window_end and (bucket + modules.datetime.timedelta(hours=1)) > window_start -%}
            {%- do hours.append(bucket) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for bucket in hours %}
    select {{ _timestamp_literal(bucket) }} as hour_start
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
