{#- A window's delivery statistics broken down by a message attribute (recipient_domain,
    platform: the message's value over all history, 'unknown' when it has none), with the
    same aggregates, derived metrics and rates as the delivery report, so the parts sum to
    the delivery's totals. `channel` restricts the messages to one channel. -#}
{% macro message_breakdown_query(window, attribute, grain='delivery', channel=none) -%}
{%- set keys = report_grain_keys(grain) -%}
with

messages as (
    select * from {{ window_input(window, 'messages') }} as messages_in_window
    {%- if channel is not none %}
    where channel = '{{ channel }}'
    {%- endif %}
),

breakdown_aggregated as (
    select
        {{ keys | join(',\n        ') }},
        coalesce({{ attribute }}, 'unknown') as {{ attribute }},
        {{ delivery_metric_aggregates() }}
    from messages
    group by {{ keys | join(', ') }}, coalesce({{ attribute }}, 'unknown')
),

metrics_derived as (
    select
        *,
        {{ delivery_derived_metrics() }}
    from breakdown_aggregated
),

final as (
    select
        {{ keys | join(',\n        ') }},
        {{ attribute }},
        {{ window_bounds_columns(window) }},
        {{ delivery_statistics_columns(flag='breakdown') }}
    from metrics_derived
)

select * from final
{%- endmacro %}
