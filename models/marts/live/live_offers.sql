-- One row per delivery x offer x clock hour of the live window (every hour present, zeros
-- included) for offers with any activity in the window: offers_sent (propositions),
-- offer_impressions (opens of messages that carry the offer), offer_clicks (clicks with
-- that offer_id), and the human ones of the last two (no machine rule classifies the open or
-- click: fct_open_click_events). Sum over hours for the offer statistics table. offers_sent
-- and offer_clicks count the events of their metrics in report_metrics().
with

events as (
    select * from {{ events_with_machine_rule(ref('int_events_unioned'), window_contains(live_report_window(), 'event_ts')) }}
        as events_with_class
    where {{ window_contains(live_report_window(), 'event_ts') }}
),

propositions as (
    select * from {{ ref('stg_raw__offer_propositions') }}
),

hours as (
    {{ live_hour_buckets() }}
),

-- A message carries an offer if it was ever proposed in it (the open may come later).
message_offers as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        message_id,
        offer_id
    from propositions
),

offer_events as (
    select
        events.campaign_id,
        events.execution_id,
        events.channel,
        events.offer_id,
        {{ dbt.date_trunc('hour', 'events.event_ts') }} as hour_start,
        case when {{ event_matches(report_metric('offers_sent'), 'events') }} then 1 else 0 end as is_offer_sent,
        0 as is_offer_impression,
        case when {{ event_matches(report_metric('offer_clicks'), 'events') }} then 1 else 0 end as is_offer_click,
        case
            when {{ event_matches(report_metric('offer_clicks'), 'events') }} and events.machine_rule is null then 1 else 0
        end as is_human_offer_click,
        0 as is_human_offer_impression
    from events
    where events.offer_id is not null

    union all

    select
        events.campaign_id,
        events.execution_id,
        events.channel,
        message_offers.offer_id,
        {{ dbt.date_trunc('hour', 'events.event_ts') }} as hour_start,
        0 as is_offer_sent,
        1 as is_offer_impression,
        0 as is_offer_click,
        0 as is_human_offer_click,
        case when events.machine_rule is null then 1 else 0 end as is_human_offer_impression
    from events
    inner join message_offers
        on
            events.campaign_id = message_offers.campaign_id
            and events.execution_id = message_offers.execution_id
            and events.channel = message_offers.channel
            and events.message_id = message_offers.message_id
    where events.event_source = 'tracking' and events.event_type = 'open'
),

hourly_counts as (
    select
        campaign_id,
        execution_id,
        channel,
        offer_id,
        hour_start,
        {{ sum_count('is_offer_sent') }} as offers_sent,
        {{ sum_count('is_offer_impression') }} as offer_impressions,
        {{ sum_count('is_offer_click') }} as offer_clicks,
        {{ sum_count('is_human_offer_impression') }} as human_offer_impressions,
        {{ sum_count('is_human_offer_click') }} as human_offer_clicks
    from offer_events
    group by campaign_id, execution_id, channel, offer_id, hour_start
),

active_offers as (
    select distinct
        campaign_id,
        execution_id,
        channel,
        offer_id
    from hourly_counts
),

final as (
    select
        active_offers.campaign_id,
        active_offers.execution_id,
        active_offers.channel,
        active_offers.offer_id,
        hours.hour_start,
        coalesce(hourly_counts.offers_sent, 0) as offers_sent,
        coalesce(hourly_counts.offer_impressions, 0) as offer_impressions,
        coalesce(hourly_counts.offer_clicks, 0) as offer_clicks,
        coalesce(hourly_counts.human_offer_impressions, 0) as human_offer_impressions,
        coalesce(hourly_counts.human_offer_clicks, 0) as human_offer_clicks,
        {{ window_bounds_columns(live_report_window()) }}
    from active_offers
    cross join hours
    left join hourly_counts
        on
            active_offers.campaign_id = hourly_counts.campaign_id
            and active_offers.execution_id = hourly_counts.execution_id
            and active_offers.channel = hourly_counts.channel
            and active_offers.offer_id = hourly_counts.offer_id
            and hours.hour_start = hourly_counts.hour_start
)

select * from final
