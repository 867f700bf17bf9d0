{#- Contract: strings are trimmed and an empty string counts as missing. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Contract: enumerations match case-insensitively with surrounding spaces ignored. -#}
{% macro clean_enum(column) -%}
    lower(nullif(trim({{ column }}), ''))
{%- endmacro %}
