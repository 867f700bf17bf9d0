{#- The suppression rules' vars, validated (fct_address_suppression_states): a bad value
    stops the run with a message naming the var and what it accepts. -#}
{% macro _integer_var(name, default, minimum, maximum=none, allow_null=false) -%}
    {%- set raw = var(name, default) -%}
    {%- if raw is none or (raw | string | trim) in ('', 'none', 'null', 'None') -%}
        {%- if allow_null -%}
            {{ return(none) }}
        {%- endif -%}
        {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": a whole number is required") }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+', text) -%}
        {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": expected a whole number, got " ~ (text | tojson)) }}
    {%- endif -%}
    {%- set value = text | int -%}
    {%- if value < minimum or (maximum is not none and value > maximum) -%}
        {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": expected " ~ minimum ~ (" to " ~ maximum if maximum is not none else " or more") ~ ", got " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- Consecutive soft errors that suppress an address: the platform's setting, 1 to 20, default 5. -#}
{% macro suppression_soft_error_threshold() -%}
    {{ return(_integer_var('suppression_soft_error_threshold', 5, 1, 20)) }}
{%- endmacro %}

{#- Hours between two soft errors of different deliveries for both to count (default 24). -#}
{% macro suppression_soft_error_spacing_hours() -%}
    {{ return(_integer_var('suppression_soft_error_spacing_hours', 24, 0)) }}
{%- endmacro %}

{#- Days after which a soft suppression is expected to be lifted; none: never. -#}
{% macro suppression_soft_release_days() -%}
    {{ return(_integer_var('suppression_soft_release_days', none, 1, allow_null=true)) }}
{%- endmacro %}
