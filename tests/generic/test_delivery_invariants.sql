{#- The contract's invariants on any relation holding delivery statistics columns
    (delivery_statistics_columns or breakdown_statistics_columns). Fails with every row
    that breaks one, naming it. Rates that are not bounded by construction (an open or a
    delivery can be tracked without its feedback) are checked by delivery_rates_in_unit_interval. -#}
{% test delivery_invariants(model) %}
with

checked as (
    select
        *,
        concat_ws(
            ',',
            case when not (targeted = excluded + errors + sent) then 'targeted_is_excluded_errors_sent' end,
            case when not (hard_bounces + soft_bounces + ignored_bounces = bounces) then 'bounce_types_sum_to_bounces' end,
            case when not (unique_opens <= opens) then 'unique_opens_within_opens' end,
            case when not (unique_clicks <= clicks) then 'unique_clicks_within_clicks' end,
            case when not (unique_impressions <= impressions) then 'unique_impressions_within_impressions' end,
            case when not (retries <= messages) then 'retries_within_messages' end,
            case when not (estimated_unique_opens >= unique_opens) then 'estimated_opens_cover_opens' end,
            case when not (estimated_unique_opens >= unique_clicks) then 'estimated_opens_cover_clicks' end,
            case when not (engagements = opens + actions) then 'engagements_are_opens_plus_actions' end,
            case when not (audience <= messages) then 'audience_within_messages' end,
            case when not (reactivity is null or reactivity between 0 and 1) then 'reactivity_in_unit_interval' end,
            case when (sent = 0) != (delivered_rate is null) then 'delivered_rate_null_iff_nothing_sent' end
        ) as broken_invariants
    from {{ model }}
)

select *
from checked
where broken_invariants != ''
{% endtest %}
