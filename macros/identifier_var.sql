{#- A var used as a filter value (a campaign id, a domain) rendered as a quoted SQL
    literal, after checking it holds only id-like characters: a quote, a semicolon or a
    comment gives a clear error instead of a changed query. -#}
{% macro identifier_var(name, default=none) -%}
    {%- set value = var(name, default) -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error("Missing var " ~ name ~ ": pass --vars '{" ~ name ~ ": ...}'") }}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9_.@:+-]{1,200}', text) -%}
        {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": expected 1-200 of letters, digits and _ . @ : + -, got " ~ (text | tojson)) }}
    {%- endif -%}
    '{{ text }}'
{%- endmacro %}
