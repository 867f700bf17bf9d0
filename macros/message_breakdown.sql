{#- Delivery statistics broken down by a message attribute of fct_messages (its recipient
    domain, its platform): the window's message rows are tagged with the attribute, then
    rolled up with the same aggregates, derived metrics and rates as the delivery marts,
    so the parts sum to the delivery's totals. A null attribute is reported as 'unknown'.
    Emits the CTEs messages_tagged and breakdown (each followed by a comma). -#}
{% macro message_breakdown_ctes(messages_cte, attributes_cte, attribute) -%}
messages_tagged as (
    select
        {{ messages_cte }}.*,
        coalesce({{ attributes_cte }}.{{ attribute }}, 'unknown') as breakdown_value
    from {{ messages_cte }}
    left join {{ attributes_cte }}
        on
            {{ messages_cte }}.campaign_id = {{ attributes_cte }}.campaign_id
            and {{ messages_cte }}.execution_id = {{ attributes_cte }}.execution_id
            and {{ messages_cte }}.channel = {{ attributes_cte }}.channel
            and {{ messages_cte }}.message_id = {{ attributes_cte }}.message_id
),

breakdown_aggregated as (
    select
        campaign_id,
        execution_id,
        channel,
        breakdown_value as {{ attribute }},
        {{ delivery_metric_aggregates() }}
    from messages_tagged
    group by campaign_id, execution_id, channel, breakdown_value
),

breakdown as (
    select
        *,
        {{ delivery_derived_metrics() }}
    from breakdown_aggregated
),
{%- endmacro %}

{#- The counts and rates a breakdown mart exposes (no new_quarantines: it is per address). -#}
{% macro breakdown_statistics_columns() -%}
    messages,
    audience,
    targeted,
    excluded,
    errors,
    sent,
    delivered,
    bounces,
    hard_bounces,
    soft_bounces,
    ignored_bounces,
    retries,
    opens,
    unique_opens,
    estimated_unique_opens,
    clicks,
    unique_clicks,
    unsubscriptions,
    spam_complaints,
    impressions,
    unique_impressions,
    interactions,
    actions,
    engagements,
    {{ delivery_rates() }}
{%- endmacro %}
