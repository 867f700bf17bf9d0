{#- Parses 'YYYY-MM-DD HH:MM:SS[.f]' or ISO 'YYYY-MM-DDTHH:MM:SS[.f][Z]' text to a UTC
    timestamp; anything else (other layouts, impossible dates) gives null, which staging
    turns into a rejection instead of a crash. -#}
{% macro parse_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp')(column)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(column) -%}
    case
        when {{ column }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z?$'
            then {{ dbt.safe_cast("replace(replace(" ~ column ~ ", 'T', ' '), 'Z', '')", api.Column.translate_type("timestamp")) }}
    end
{%- endmacro %}

{#- DuckDB: the layout every export uses, 'YYYY-MM-DD HH:MM:SS', is cast directly, and the
    cast is kept only if it prints back exactly as the text (so a space-padded or otherwise
    lenient input the cast would accept still falls through to the pattern below); any
    other text takes the pattern. Same accepted set and values as the pattern alone, at
    about half the cost (the regular expression was most of staging's time). -#}
{% macro duckdb__parse_utc_timestamp(column) -%}
    coalesce(
        case
            when length({{ column }}) = 19 and cast(try_cast({{ column }} as timestamp) as varchar) = {{ column }}
                then try_cast({{ column }} as timestamp)
        end,
        case
            when regexp_full_match({{ column }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z?')
                then try_cast(replace(replace({{ column }}, 'T', ' '), 'Z', '') as timestamp)
        end
    )
{%- endmacro %}

{#- Spark: a cast that fails gives null (dbt-spark runs with spark.sql.ansi.enabled=false). -#}
{% macro spark__parse_utc_timestamp(column) -%}
    case
        when {{ column }} rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z?$'
            then cast(replace(replace({{ column }}, 'T', ' '), 'Z', '') as timestamp)
    end
{%- endmacro %}

{#- PostgreSQL: a cast of an impossible date (2026-02-30) raises an error and would stop the
    build, so the fields are range-checked first, as DuckDB's try_cast would: month 1-12, the
    day within its month (leap years included), hour 0-23 (24:00:00 exactly is midnight of
    the next day, as on DuckDB), minutes and seconds 0-59. Year 0 cannot be represented and
    is null (invalid_event_ts; DuckDB keeps it as 1 BC, then rejects it as out of range). -#}
{% macro postgres__parse_utc_timestamp(column) -%}
    {%- set text = "replace(replace(" ~ column ~ ", 'T', ' '), 'Z', '')" -%}
    {%- set year = "cast(substr(" ~ column ~ ", 1, 4) as integer)" -%}
    {%- set month = "cast(substr(" ~ column ~ ", 6, 2) as integer)" -%}
    {%- set day = "cast(substr(" ~ column ~ ", 9, 2) as integer)" -%}
    {%- set hour = "cast(substr(" ~ column ~ ", 12, 2) as integer)" -%}
    {%- set minute = "cast(substr(" ~ column ~ ", 15, 2) as integer)" -%}
    {%- set second = "cast(substr(" ~ column ~ ", 18, 2) as integer)" -%}
    case
        when {{ column }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z?$'
            and {{ year }} >= 1
            and {{ month }} between 1 and 12
            and {{ day }} between 1 and case
                when {{ month }} in (4, 6, 9, 11) then 30
                when {{ month }} != 2 then 31
                when {{ year }} % 4 = 0 and ({{ year }} % 100 != 0 or {{ year }} % 400 = 0) then 29
                else 28
            end
            and ({{ hour }} between 0 and 23 or ({{ hour }} = 24 and {{ text }} ~ ' 24:00:00(\.0*)?$'))
            and {{ minute }} between 0 and 59
            and {{ second }} between 0 and 59
            then cast({{ text }} as timestamp)
    end
{%- endmacro %}
