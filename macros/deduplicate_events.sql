{#- Deduplication on a key among rows that passed validation (validation_reasons null).
    The first arrival wins (order: _loaded_at, ingested_at, content hash) so that a later
    load can never replace an event already counted. In an incremental run only the new
    loads are ranked, and a key already staged in {{ this }} counts as copy 0: a new copy
    of it is a duplicate (same content) or a conflicting_duplicate (other content), exactly
    as a full refresh would rank it. Emits the CTEs existing_winners (incremental only) and
    ranked (with copy_number and winner_content_hash), each followed by a comma. -#}
{% macro dedup_ranked_ctes(validated_cte, key_column='event_id') -%}
    {%- set window -%}
        over (
            partition by {{ validated_cte }}.{{ key_column }}, {{ validated_cte }}.validation_reasons is null
            order by {{ validated_cte }}._loaded_at, {{ validated_cte }}.ingested_at, {{ validated_cte }}.content_hash
        )
    {%- endset -%}
{%- if is_incremental() %}
existing_winners as (
    select
        {{ key_column }},
        content_hash as earlier_content_hash
    from {{ this }}
    where
        row_status = 'staged'
        and {{ key_column }} in (select new_rows.{{ key_column }} from {{ validated_cte }} as new_rows)
),
{% endif %}
ranked as (
    select
        {{ validated_cte }}.*,
        {%- if is_incremental() %}
        row_number() {{ window }} + case when existing_winners.{{ key_column }} is null then 0 else 1 end as copy_number,
        coalesce(existing_winners.earlier_content_hash, first_value({{ validated_cte }}.content_hash) {{ window }})
            as winner_content_hash
        {%- else %}
        row_number() {{ window }} as copy_number,
        first_value({{ validated_cte }}.content_hash) {{ window }} as winner_content_hash
        {%- endif %}
    from {{ validated_cte }}
    {%- if is_incremental() %}
    left join existing_winners
        on
            {{ validated_cte }}.{{ key_column }} = existing_winners.{{ key_column }}
            and {{ validated_cte }}.validation_reasons is null
    {%- endif %}
),
{%- endmacro %}

{#- The latest-wins ranking for dimensions (campaigns), always over all rows. -#}
{% macro dedup_rank_columns(key_column, latest_wins=false) -%}
    {%- set direction = 'desc' if latest_wins else 'asc' -%}
    {%- set window -%}
        over (
            partition by {{ key_column }}, validation_reasons is null
            order by _loaded_at {{ direction }}, ingested_at {{ direction }}, content_hash
        )
    {%- endset -%}
    row_number() {{ window }} as copy_number,
    first_value(content_hash) {{ window }} as winner_content_hash
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
    where _loaded_at > (select coalesce(max(processed._loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }} as processed)
    {%- endif -%}
{%- endmacro %}
