{#- Salted SHA-256 of a PII value (recipient address). The salt comes from the env var
    PII_HASH_SALT (documented default for local use); quotes are escaped so a hostile salt
    cannot change the query. Normalised (trimmed, lowercased) first so the same address
    always hashes the same. -#}
{% macro pii_salt() -%}
    {%- set salt = env_var('PII_HASH_SALT', 'messaging-warehouse-local-salt') -%}
    '{{ salt | replace("'", "''") }}'
{%- endmacro %}

{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii')(column)) }}
{%- endmacro %}

{% macro default__hash_pii(column) -%}
    case when {{ column }} is not null
        then encode(sha256(convert_to({{ pii_salt() }} || lower(trim({{ column }})), 'UTF8')), 'hex')
    end
{%- endmacro %}

{% macro duckdb__hash_pii(column) -%}
    case when {{ column }} is not null then sha256({{ pii_salt() }} || lower(trim({{ column }}))) end
{%- endmacro %}

{% macro spark__hash_pii(column) -%}
    case when {{ column }} is not null then sha2(concat({{ pii_salt() }}, lower(trim({{ column }}))), 256) end
{%- endmacro %}
