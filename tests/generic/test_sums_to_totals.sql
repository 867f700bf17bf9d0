{#- Breakdown rows (time buckets, platforms, domains, reasons...) must sum to the totals
    of `totals` for each key: fails with every key and column where they differ, and with
    keys present on one side only (a missing side counts as 0). `column_map` maps a
    breakdown column to the totals column it adds up to; `where` filters the totals. -#}
{% test sums_to_totals(model, totals, key_columns, column_map, where=none, totals_where=none) %}
with

parts as (
    select
        {{ key_columns | join(', ') }},
        {% for part, total in column_map.items() -%}
        sum({{ part }}) as {{ part }}_sum{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ model }}
    {% if where %}where {{ where }}{% endif %}
    group by {{ key_columns | join(', ') }}
),

totals as (
    select * from {{ totals }}
    {% if totals_where %}where {{ totals_where }}{% endif %}
),

compared as (
    select
        {% for key in key_columns -%}
        coalesce(parts.{{ key }}, totals.{{ key }}) as {{ key }},
        {% endfor -%}
        {% for part, total in column_map.items() -%}
        coalesce(parts.{{ part }}_sum, 0) as {{ part }}_sum,
        coalesce(totals.{{ total }}, 0) as {{ total }}_total{% if not loop.last %},{% endif %}
        {% endfor %}
    from parts
    full outer join totals
        on
            {% for key in key_columns -%}
            parts.{{ key }} = totals.{{ key }}{% if not loop.last %} and {% endif %}
            {% endfor %}
)

select *
from compared
where
    {% for part, total in column_map.items() -%}
    {{ part }}_sum != {{ total }}_total{% if not loop.last %} or {% endif %}
    {% endfor %}
{% endtest %}
