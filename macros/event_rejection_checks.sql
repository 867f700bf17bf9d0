{#- Rejection checks every event table shares (docs/decisions.md, in this order): the
    required contract columns, then the timestamps, then the ids. Each returns a reason (the
    ids: their reasons, comma-separated) or null; callers
    concat_ws them, which skips nulls. Expects the *_text columns and parsed timestamps of
    a base model's typed CTE. -#}
{% macro event_rejection_checks(required_columns) -%}
    {%- for column in required_columns %}
    {%- set checked = column ~ '_text' if column == 'event_ts' else column %}
    case when {{ checked }} is null then 'missing_{{ column }}' end,
    {%- endfor %}
    case when event_ts_text is not null and event_ts is null then 'invalid_event_ts' end,
    case
        when event_ts < cast('2000-01-01' as {{ dbt.type_timestamp() }})
            or event_ts > {{ dbt.dateadd('hour', var('future_event_tolerance_hours') | int, 'ingested_at') }}
            then 'event_ts_out_of_range'
    end,
    case when ingested_at_text is not null and ingested_at is null then 'invalid_ingested_at' end,
    {%- set ids = ['event_id', 'campaign_id', 'execution_id', 'message_id', 'profile_id'] %}
    {#- The control-character search is the costly check: run once over the ids together
        (a value has one iff their concatenation has one), and per id only on the rare
        rows where some id is malformed. #}
    case
        when
            {%- for column in ids %}
            length({{ column }}) > 255 or {{ column }} like '=%' or
            {%- endfor %}
            {{ has_control_characters("concat_ws(''," ~ ids | join(', ') ~ ")") }}
            then concat_ws(
                ','
                {%- for column in ids %},
                case when {{ malformed_id(column) }} then 'invalid_{{ column }}' end
                {%- endfor %}
            )
    end
{%- endmacro %}
