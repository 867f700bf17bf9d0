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

{% macro duckdb__parse_utc_timestamp(column) -%}
    case
        when regexp_full_match({{ column }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z?')
            then try_cast(replace(replace({{ column }}, 'T', ' '), 'Z', '') as timestamp)
    end
{%- endmacro %}
