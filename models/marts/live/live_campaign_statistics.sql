-- One row per campaign with any valid event in the live window: the campaign tab's KPIs.
-- audience and profiles_entered: distinct profiles targeted (excluded, error or sent) in
-- the window, over all the campaign's channels (the events know a profile only once it
-- entered the campaign, so the two agree); profiles_with_activity: distinct profiles with
-- any event in the window; actions_performed: messages sent (sent events); errors: error
-- events (could not be sent).
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
        {{ sum_count('targeted') }} as targeted,
        {{ sum_count('excluded') }} as excluded,
        {{ sum_count('errors') }} as errors,
        {{ sum_count('sent') }} as sent,
        {{ sum_count('delivered') }} as delivered,
        {{ sum_count('bounces') }} as bounces,
        {{ sum_count('retries') }} as retries,
        {{ sum_count('opens') }} as opens,
        {{ sum_count('clicks') }} as clicks,
        {{ sum_count('impressions') }} as impressions,
        {{ sum_count('interactions') }} as interactions,
        {{ sum_count('engagements') }} as engagements
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
        deliveries_summed.errors,
        deliveries_summed.deliveries,
        deliveries_summed.channels,
        deliveries_summed.targeted,
        deliveries_summed.excluded,
        deliveries_summed.sent,
        deliveries_summed.delivered,
        deliveries_summed.bounces,
        deliveries_summed.retries,
        deliveries_summed.opens,
        deliveries_summed.clicks,
        deliveries_summed.impressions,
        deliveries_summed.interactions,
        deliveries_summed.engagements,
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end
    from deliveries_summed
    inner join profiles_counted
        on deliveries_summed.campaign_id = profiles_counted.campaign_id
    left join campaigns
        on deliveries_summed.campaign_id = campaigns.campaign_id
)

select * from final
