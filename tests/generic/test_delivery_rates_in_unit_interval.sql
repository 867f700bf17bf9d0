{#- Every rate column lies in [0, 1] or is null (null exactly where its denominator is 0
    is checked by delivery_invariants). Used with severity warn where late or missing
    feedback can legitimately push a rate past 1 (opens tracked before the delivery
    feedback arrives). -#}
{% test delivery_rates_in_unit_interval(model, rate_columns) %}
select *
from {{ model }}
where
    {% for column in rate_columns -%}
    ({{ column }} < 0 or {{ column }} > 1){% if not loop.last %} or {% endif %}
    {% endfor %}
{% endtest %}
