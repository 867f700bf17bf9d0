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
