-- One row per campaign with any valid event in the live window: the campaign tab's KPIs.
-- audience and profiles_entered: distinct profiles targeted (excluded, error or sent) in
-- the window, over all the campaign's channels (the events know a profile only once it
-- entered the campaign, so the two agree); profiles_with_activity: distinct profiles with
-- any event in the window; actions_performed: messages sent (sent events); errors: error
-- events (could not be sent). The summed metrics are those of report_metrics() flagged
-- `campaign`.
{%- set campaign_metrics = report_metrics() | selectattr('campaign') | list %}

with

messages as (
    select * from {{ ref('int_messages_in_live_window') }}
),

deliveries as (
    select * from {{ ref('live_delivery_statistics') }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

profiles_counted as (
    select
        campaign_id,
        count(distinct targeted_profile_id) as audience,
        count(distinct targeted_profile_id) as profiles_entered,
        count(distinct profile_id) as profiles_with_activity
    from messages
    group by campaign_id
),

deliveries_summed as (
    select
        campaign_id,
        count(*) as deliveries,
        count(distinct channel) as channels,
        {%- for metric in campaign_metrics %}
        {{ sum_count(metric.name) }} as {{ metric.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from deliveries
    group by campaign_id
),

final as (
    select
        deliveries_summed.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        profiles_counted.audience,
        profiles_counted.profiles_entered,
        profiles_counted.profiles_with_activity,
        deliveries_summed.sent as actions_performed,
        deliveries_summed.deliveries,
        deliveries_summed.channels,
        {%- for metric in campaign_metrics %}
        deliveries_summed.{{ metric.name }},
        {%- endfor %}
        {{ window_bounds_columns(live_report_window()) }}
    from deliveries_summed
    inner join profiles_counted
        on deliveries_summed.campaign_id = profiles_counted.campaign_id
    left join campaigns
        on deliveries_summed.campaign_id = campaigns.campaign_id
)

select * from final
