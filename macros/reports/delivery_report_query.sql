{#- The delivery report of a window (report_window.sql), at a grain: one row per delivery,
    or per campaign x channel (a channel tab's KPI tiles). Every metric of
    report_metrics() flagged `report` over the window's events (the contract's counts, the
    pages' recipient counts, the period report's audience and execution statistics) and
    its rates. The live delivery statistics, the period delivery report and
    period_delivery_report_between all render this one query. -#}
{% macro delivery_report_query(window, grain='delivery') -%}
{%- set keys = report_grain_keys(grain) -%}
with

messages as (
    select * from {{ window_input(window, 'messages') }} as messages_in_window
),

first_hard_bounces as (
    select * from {{ unqualified_ref('fct_recipient_quarantines') }}
    where {{ window_contains(window, 'quarantined_at') }}
),

link_clicks as (
    select * from {{ window_input(window, 'link_clicks') }} as link_clicks_in_window
),

campaigns as (
    select
        campaign_id,
        campaign_name
    from {{ unqualified_ref('dim_campaigns') }}
),

{% if grain == 'delivery' -%}
delivery_starts as (
    select
        campaign_id,
        execution_id,
        channel,
        execution_started_at
    from {{ unqualified_ref('fct_deliveries') }}
),

{% endif -%}
messages_aggregated as (
    select
        {{ keys | join(',\n        ') }},
        {%- if grain == 'channel' %}
        count(distinct execution_id) as executions,
        {%- endif %}
        {{ delivery_metric_aggregates() }}
    from messages
    group by {{ keys | join(', ') }}
),

quarantines_counted as (
    select
        {{ keys | join(',\n        ') }},
        count(*) as new_quarantines
    from first_hard_bounces
    group by {{ keys | join(', ') }}
),

forwards_estimated as (
    select
        {{ keys | join(',\n        ') }},
        {{ estimated_forwards_aggregate() }} as estimated_forwards
    from link_clicks
    group by {{ keys | join(', ') }}
),

counts_joined as (
    select
        messages_aggregated.*,
        coalesce(quarantines_counted.new_quarantines, 0) as new_quarantines,
        coalesce(forwards_estimated.estimated_forwards, 0) as estimated_forwards
    from messages_aggregated
    left join quarantines_counted
        on
            {% for key in keys -%}
            messages_aggregated.{{ key }} = quarantines_counted.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
    left join forwards_estimated
        on
            {% for key in keys -%}
            messages_aggregated.{{ key }} = forwards_estimated.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
),

metrics_derived as (
    select
        *,
        {{ delivery_derived_metrics() }}
    from counts_joined
),

final as (
    select
        -- ids
        {% for key in keys -%}
        metrics_derived.{{ key }},
        {% endfor -%}
        coalesce(campaigns.campaign_name, metrics_derived.campaign_id) as campaign_name,
        -- window and timestamps
        {{ window_bounds_columns(window) }},
        {% if grain == 'delivery' -%}
        delivery_starts.execution_started_at,
        coalesce({{ window_contains(window, 'delivery_starts.execution_started_at') }}, false) as is_sent_in_window,
        {%- else -%}
        metrics_derived.executions,
        {%- endif %}
        -- counts and rates
        {{ delivery_statistics_columns('metrics_derived') }}
    from metrics_derived
    left join campaigns
        on metrics_derived.campaign_id = campaigns.campaign_id
    {% if grain == 'delivery' -%}
    inner join delivery_starts
        on
            metrics_derived.campaign_id = delivery_starts.campaign_id
            and metrics_derived.execution_id = delivery_starts.execution_id
            and metrics_derived.channel = delivery_starts.channel
    {%- endif %}
)

select * from final
{%- endmacro %}
