{#- The send cohort of a window: the deliveries executed in it (execution_started_at in the
    window), each with all its events up to now (fct_deliveries), which is how the
    platform's per-delivery reports read. Same columns as delivery_report_query at the
    delivery grain, so a dashboard switches between "what happened in the range" (event
    time) and "how the range's sends did" (cohort) without changing its query. -#}
{% macro delivery_cohort_query(window) -%}
with

deliveries as (
    select * from {{ unqualified_ref('fct_deliveries') }}
    where {{ window_contains(window, 'execution_started_at') }}
),

campaigns as (
    select
        campaign_id,
        campaign_name
    from {{ unqualified_ref('dim_campaigns') }}
),

final as (
    select
        -- ids
        deliveries.campaign_id,
        deliveries.execution_id,
        deliveries.channel,
        coalesce(campaigns.campaign_name, deliveries.campaign_id) as campaign_name,
        -- window and timestamps
        {{ window_bounds_columns(window) }},
        deliveries.execution_started_at,
        true as is_sent_in_window,
        -- counts and rates
        {{ delivery_statistics_columns('deliveries') }}
    from deliveries
    left join campaigns
        on deliveries.campaign_id = campaigns.campaign_id
)

select * from final
{%- endmacro %}
