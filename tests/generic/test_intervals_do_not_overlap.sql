{#- Fails with every pair of rows of one `key_column` whose intervals [from_column,
    to_column) overlap (a null to_column is open-ended): a key in at most one interval at
    any instant, and at most one open interval. -#}
{% test intervals_do_not_overlap(model, key_column, from_column, to_column) %}
with

intervals as (
    select
        {{ key_column }} as interval_key,
        {{ from_column }} as interval_from,
        {{ to_column }} as interval_to,
        row_number() over (partition by {{ key_column }} order by {{ from_column }}) as interval_number
    from {{ model }}
)

select
    earlier.interval_key,
    earlier.interval_from,
    earlier.interval_to,
    later.interval_from as overlapping_from,
    later.interval_to as overlapping_to
from intervals as earlier
inner join intervals as later
    on
        earlier.interval_key = later.interval_key
        and earlier.interval_number < later.interval_number
        and (earlier.interval_to is null or later.interval_from < earlier.interval_to)
        and (later.interval_to is null or earlier.interval_from < later.interval_to)
{% endtest %}
