{#- A seed's text value, null for what a seed writes for a missing value: an empty text,
    and on Spark the text 'None' (dbt-spark loads an empty field of a text column so). -#}
{% macro seed_text(expression) -%}
    {%- set text = 'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')' -%}
    {%- if target.type == 'spark' -%}
    nullif(nullif({{ text }}, ''), 'None')
    {%- else -%}
    nullif({{ text }}, '')
    {%- endif -%}
{%- endmacro %}
