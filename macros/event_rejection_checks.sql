{#- Rejection checks every event table shares (docs/decisions.md, in this order): the
    required contract columns, then the timestamps. Each returns a reason or null; callers
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
    {%- for column in ['event_id', 'campaign_id', 'execution_id', 'message_id', 'profile_id'] %}
    case when {{ malformed_id(column) }} then 'invalid_{{ column }}' end{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
