{#- Deduplication on a key among rows that passed validation (validation_reasons null).
    The first arrival wins (order: _loaded_at, ingested_at, content hash) so that a later
    load can never replace an event already counted: incremental runs stay equal to a full
    refresh. Dimensions pass latest_wins=true (the newest name is the right one). -#}
{% macro dedup_rank_columns(key_column='event_id', latest_wins=false) -%}
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
