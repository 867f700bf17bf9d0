{#- Golden test: the model must hold exactly the rows of `expected` (a seed computed
    independently), matched on `key_columns`. Fails with every key missing on either side
    and every key where a compared column differs; numbers compare within `tolerance`,
    nulls only equal nulls. `columns`: numeric columns to compare; `text_columns`: compared
    as text, exactly (timestamps as 'YYYY-MM-DD HH:MM:SS'; an empty text is a null: a CSV seed
    cannot tell them apart, and dbt-spark loads an empty field of a text column as the
    text 'None'); `model_where` restricts the
    model's rows when the expectation covers only part of it. -#}
{% test equals_expected(model, expected, key_columns, columns, text_columns=[], model_where=none, tolerance=0.000000001) %}
with

actual as (
    select * from {{ model }}
    {% if model_where %}where {{ model_where }}{% endif %}
),

expected as (
    select * from {{ expected }}
),

joined as (
    select
        {% for key in key_columns -%}
        coalesce(cast(actual.{{ key }} as {{ dbt.type_string() }}), cast(expected.{{ key }} as {{ dbt.type_string() }})) as {{ key }},
        {% endfor -%}
        case
            when actual.{{ key_columns[0] }} is null then 'missing_in_model'
            when expected.{{ key_columns[0] }} is null then 'unexpected_in_model'
        end as missing_side,
        {% for column in text_columns -%}
        coalesce({{ seed_text('actual.' ~ column) }}, '<null>')
        != coalesce({{ seed_text('expected.' ~ column) }}, '<null>') as {{ column }}_differs,
        cast(actual.{{ column }} as {{ dbt.type_string() }}) as actual_{{ column }},
        cast(expected.{{ column }} as {{ dbt.type_string() }}) as expected_{{ column }},
        {% endfor -%}
        {% for column in columns -%}
        case
            when actual.{{ column }} is null and expected.{{ column }} is null then false
            when actual.{{ column }} is null or expected.{{ column }} is null then true
            when abs(cast(actual.{{ column }} as {{ dbt.type_float() }}) - cast(expected.{{ column }} as {{ dbt.type_float() }})) > {{ tolerance }}
                then true
            else false
        end as {{ column }}_differs,
        cast(actual.{{ column }} as {{ dbt.type_string() }}) as actual_{{ column }},
        cast(expected.{{ column }} as {{ dbt.type_string() }}) as expected_{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from actual
    full outer join expected
        on
            {% for key in key_columns -%}
            cast(actual.{{ key }} as {{ dbt.type_string() }}) = cast(expected.{{ key }} as {{ dbt.type_string() }})
            {%- if not loop.last %} and {% endif %}
            {% endfor %}
)

select *
from joined
where
    missing_side is not null
    {% for column in columns + text_columns -%}
    or {{ column }}_differs
    {% endfor %}
{% endtest %}
