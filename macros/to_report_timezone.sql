{#- A UTC timestamp as wall-clock time in var report_timezone (validated). -#}
{% macro to_report_timezone(column) -%}
    {{ to_timezone(column, "'" ~ report_timezone() ~ "'") }}
{%- endmacro %}

{#- A UTC timestamp as wall-clock time in the zone `timezone_sql` (a SQL expression: a
    validated literal, or a table function's parameter). `column` may be an expression:
    it is parenthesised, since AT TIME ZONE binds tighter than + (PostgreSQL's dateadd is
    `ts + interval`). -#}
{% macro to_timezone(column, timezone_sql) -%}
    {{ return(adapter.dispatch('to_timezone')(column, timezone_sql)) }}
{%- endmacro %}

{% macro default__to_timezone(column, timezone_sql) -%}
    ((({{ column }}) at time zone 'UTC') at time zone {{ timezone_sql }})
{%- endmacro %}

{% macro spark__to_timezone(column, timezone_sql) -%}
    from_utc_timestamp({{ column }}, {{ timezone_sql }})
{%- endmacro %}

{#- The inverse: a wall-clock time in the zone `timezone_sql` as a UTC timestamp (a local
    midnight of a DST day gives the instant that day starts). -#}
{% macro from_timezone(column, timezone_sql) -%}
    {{ return(adapter.dispatch('from_timezone')(column, timezone_sql)) }}
{%- endmacro %}

{% macro default__from_timezone(column, timezone_sql) -%}
    ((({{ column }}) at time zone {{ timezone_sql }}) at time zone 'UTC')
{%- endmacro %}

{% macro spark__from_timezone(column, timezone_sql) -%}
    to_utc_timestamp(({{ column }}), {{ timezone_sql }})
{%- endmacro %}
