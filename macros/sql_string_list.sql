{#- Renders a list of plain words as a quoted SQL list: ['a', 'b'] -> 'a', 'b'.
    Only for values defined in the project (vars, macro lists), never for user input. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values -%}
        '{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
