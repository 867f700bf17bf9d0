-- Human + machine = today's totals, for every count that has a human_* twin: per
-- delivery, the opens and clicks of fct_deliveries (and so of every report rolled up from
-- the same hour facts) split exactly into fct_open_click_events' human and machine events,
-- the distinct human openers and clickers among them; and per delivery the top links'
-- clicks (fct_link_click_hours) split the same way. Every open and click is classified
-- once: the classification holds as many opens and clicks as the facts count.
-- Fails with each delivery and count that does not add up.
with

deliveries as (
    select * from {{ ref('fct_deliveries') }}
),

classified as (
    select * from {{ ref('fct_open_click_events') }}
),

link_click_hours as (
    select * from {{ ref('fct_link_click_hours') }}
),

classified_per_delivery as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ count_where("event_type = 'open'") }} as opens,
        {{ count_where("event_type = 'open' and is_machine") }} as machine_opens,
        {{ count_where("event_type = 'click'") }} as clicks,
        {{ count_where("event_type = 'click' and is_machine") }} as machine_clicks,
        count(distinct case when event_type = 'open' and not is_machine then message_id end) as human_unique_opens,
        count(distinct case when event_type = 'click' and not is_machine then message_id end) as human_unique_clicks
    from classified
    group by campaign_id, execution_id, channel
),

link_clicks_per_delivery as (
    select
        campaign_id,
        execution_id,
        channel,
        sum(clicks) as clicks,
        sum(human_clicks) as human_clicks
    from link_click_hours
    group by campaign_id, execution_id, channel
),

compared as (
    select
        deliveries.campaign_id,
        deliveries.execution_id,
        deliveries.channel,
        deliveries.opens,
        deliveries.human_opens,
        coalesce(classified_per_delivery.opens, 0) as classified_opens,
        coalesce(classified_per_delivery.machine_opens, 0) as machine_opens,
        deliveries.human_unique_opens,
        coalesce(classified_per_delivery.human_unique_opens, 0) as classified_human_unique_opens,
        deliveries.clicks,
        deliveries.human_clicks,
        coalesce(classified_per_delivery.clicks, 0) as classified_clicks,
        coalesce(classified_per_delivery.machine_clicks, 0) as machine_clicks,
        deliveries.human_unique_clicks,
        coalesce(classified_per_delivery.human_unique_clicks, 0) as classified_human_unique_clicks,
        coalesce(link_clicks_per_delivery.clicks, 0) as link_clicks,
        coalesce(link_clicks_per_delivery.human_clicks, 0) as link_human_clicks
    from deliveries
    left join classified_per_delivery
        on
            deliveries.campaign_id = classified_per_delivery.campaign_id
            and deliveries.execution_id = classified_per_delivery.execution_id
            and deliveries.channel = classified_per_delivery.channel
    left join link_clicks_per_delivery
        on
            deliveries.campaign_id = link_clicks_per_delivery.campaign_id
            and deliveries.execution_id = link_clicks_per_delivery.execution_id
            and deliveries.channel = link_clicks_per_delivery.channel
)

select *
from compared
where
    opens != classified_opens
    or human_opens + machine_opens != opens
    or human_unique_opens != classified_human_unique_opens
    or clicks != classified_clicks
    or human_clicks + machine_clicks != clicks
    or human_unique_clicks != classified_human_unique_clicks
    or link_clicks != clicks
    or link_human_clicks != human_clicks
