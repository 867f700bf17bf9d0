{#- Contract: a rate is null where its denominator is 0. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as {{ dbt.type_float() }}) / {{ denominator }} end
{%- endmacro %}
