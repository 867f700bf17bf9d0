{#- Custom schemas are used verbatim (staging, marts, ...) rather than prefixed with the
    target schema: BI tools and analysts get stable names in every environment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
