{#- Deduplication on a key among rows that passed validation (validation_reasons null):
    the rank columns copy_number and winner_content_hash, as expressions over `relation`
    (the validated rows; unqualified when none). The first arrival wins (order: _loaded_at,
    ingested_at, content hash) so that a later load can never replace an event already
    counted; latest_wins=true ranks the latest arrival first instead (dimensions).

    In an incremental run only the new loads are ranked, and a key already staged in
    {{ this }} counts as copy 0: pass `earlier`, the alias of dedup_staged_winners() left
    joined on the key for valid rows; a new copy of a staged key is then a duplicate (same
    content) or a conflicting_duplicate (other content), exactly as a full refresh would
    rank it. -#}
{% macro dedup_rank_columns(key_column, latest_wins=false, relation=none, earlier=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- set direction = ' desc' if latest_wins else '' -%}
    {%- set window -%}
        over (
            partition by {{ prefix }}{{ key_column }}, {{ prefix }}validation_reasons is null
            order by {{ prefix }}_loaded_at{{ direction }}, {{ prefix }}ingested_at{{ direction }}, {{ prefix }}content_hash
        )
    {%- endset -%}
    {%- if earlier is none -%}
    row_number() {{ window }} as copy_number,
    first_value({{ prefix }}content_hash) {{ window }} as winner_content_hash
    {%- else -%}
    row_number() {{ window }} + case when {{ earlier }}.{{ key_column }} is null then 0 else 1 end as copy_number,
    coalesce({{ earlier }}.earlier_content_hash, first_value({{ prefix }}content_hash) {{ window }})
        as winner_content_hash
    {%- endif -%}
{%- endmacro %}

{#- The keys already staged in {{ this }} among the new rows of `relation`, with their
    content hash (earlier_content_hash): a subquery to left join, in an incremental run,
    for dedup_rank_columns(earlier=...). -#}
{% macro dedup_staged_winners(relation, key_column='event_id') -%}
    (
        select
            {{ key_column }},
            content_hash as earlier_content_hash
        from {{ this }}
        where
            row_status = 'staged'
            and {{ key_column }} in (select new_rows.{{ key_column }} from {{ relation }} as new_rows)
    )
{%- endmacro %}

{#- From the rank columns above: row_status is 'staged' (the winner), 'duplicate' (a later
    copy with the same normalised content) or 'rejected' (invalid, or a later copy whose
    content conflicts with the winner: reason conflicting_duplicate). -#}
{% macro dedup_status_columns() -%}
    case
        when validation_reasons is not null then 'rejected'
        when copy_number = 1 then 'staged'
        when content_hash = winner_content_hash then 'duplicate'
        else 'rejected'
    end as row_status,
    case
        when validation_reasons is not null then validation_reasons
        when copy_number > 1 and content_hash != winner_content_hash then 'conflicting_duplicate'
    end as rejection_reasons
{%- endmacro %}

{#- New raw rows only, in an incremental run: loads after the newest one already processed.
    The loader makes _loaded_at strictly increase from load to load, so this is exact. -#}
{% macro new_loads_filter() -%}
    {%- if is_incremental() -%}
    where _loaded_at > {{ load_watermark('_loaded_at') }}
    {%- endif -%}
{%- endmacro %}

{#- The full build's ranking (no incremental run): only the keys that have more than one
    valid row are ranked. A window over every row sorts the whole table by key, and few
    keys have copies (duplicate deliveries of the same event); every other row is its
    key's only valid row, so copy 1 and its own winner, exactly what the window would give
    it (an invalid row's rank is never read: dedup_status_columns rejects it on its
    validation reasons). Defines two CTEs, <relation>_copied_keys and ranked (the same
    columns as dedup_rank_columns: relation.*, copy_number, winner_content_hash).
    `relation` is read three times: declare it with materialized_cte().
    The copied keys are joined, not tested with `not in (subquery)`: Spark plans a `not in`
    (null-aware, and here inside an `or`) as a nested loop over every row and every copied
    key, which grows with the square of the events (a 10M-event full build spent more than
    20 minutes in this model alone); an outer join and an inner join are hash joins on every
    engine. A valid row's key is never null (a null key is a validation reason). -#}
{% macro dedup_ranked_full_build(relation, key_column) -%}
{{ relation }}_copied_keys as (
    select {{ relation }}.{{ key_column }}
    from {{ relation }}
    where {{ relation }}.validation_reasons is null
    group by {{ relation }}.{{ key_column }}
    having count(*) > 1
),

ranked as (
    select
        {{ relation }}.*,
        cast(1 as {{ dbt.type_bigint() }}) as copy_number,
        {{ relation }}.content_hash as winner_content_hash
    from {{ relation }}
    left join {{ relation }}_copied_keys as copied
        on
            {{ relation }}.{{ key_column }} = copied.{{ key_column }}
            and {{ relation }}.validation_reasons is null
    where copied.{{ key_column }} is null

    union all

    select
        {{ relation }}.*,
        {{ dedup_rank_columns(key_column, relation=relation) }}
    from {{ relation }}
    inner join {{ relation }}_copied_keys as copied
        on {{ relation }}.{{ key_column }} = copied.{{ key_column }}
    where {{ relation }}.validation_reasons is null
)
{%- endmacro %}

{#- `materialized` before a CTE's body when `when` is true, on DuckDB (and PostgreSQL): the
    CTE is computed once even when read several times (DuckDB would otherwise inline it
    into each reader). Nothing on other engines. -#}
{% macro materialized_cte(when=true) -%}
    {{ return(adapter.dispatch('materialized_cte')(when)) }}
{%- endmacro %}

{% macro default__materialized_cte(when) -%}
{%- endmacro %}

{% macro duckdb__materialized_cte(when) -%}
    {%- if when %}materialized{% endif -%}
{%- endmacro %}

{% macro postgres__materialized_cte(when) -%}
    {%- if when %}materialized{% endif -%}
{%- endmacro %}
