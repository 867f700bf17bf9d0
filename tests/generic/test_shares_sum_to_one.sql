{#- Within each group, `share_column` sums to 1 (within floating-point tolerance). -#}
{% test shares_sum_to_one(model, group_columns, share_column) %}
select
    {{ group_columns | join(', ') }},
    sum({{ share_column }}) as share_total
from {{ model }}
group by {{ group_columns | join(', ') }}
having abs(sum({{ share_column }}) - 1) > 0.000001
{% endtest %}
