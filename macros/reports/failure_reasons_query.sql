{#- A window's exclusion, error and bounce events per reason kind, failure type and reason
    code (and recipient domain when `by_domain`), with each row's share of its delivery's
    events of that kind. Serves the reason charts and tables of the live report and the
    period report's non-deliverables. -#}
{% macro failure_reasons_query(window, grain='delivery', by_domain=false) -%}
{%- set keys = report_grain_keys(grain) -%}
{%- set groups = keys + ['reason_kind', "coalesce(failure_type, 'unknown')", 'reason'] + (["coalesce(recipient_domain, 'unknown')"] if by_domain else []) -%}
with

failures as (
    select * from {{ window_input(window, 'failures') }} as failures_in_window
),

reasons_counted as (
    select
        {{ keys | join(',\n        ') }},
        reason_kind,
        coalesce(failure_type, 'unknown') as failure_type,
        reason,
        {%- if by_domain %}
        coalesce(recipient_domain, 'unknown') as recipient_domain,
        {%- endif %}
        min(reason_label) as reason_label,
        min(reason_category) as reason_category,
        {{ sum_count('events') }} as events
    from failures
    group by {{ groups | join(', ') }}
),

final as (
    select
        {{ keys | join(',\n        ') }},
        reason_kind,
        failure_type,
        reason,
        {%- if by_domain %}
        recipient_domain,
        {%- endif %}
        reason_label,
        reason_category,
        {{ window_bounds_columns(window) }},
        events,
        {{ safe_divide('events', 'sum(events) over (partition by ' ~ (keys + ['reason_kind']) | join(', ') ~ ')') }}
            as share_of_kind
    from reasons_counted
)

select * from final
{%- endmacro %}
