-- One row per campaign seen in the campaigns table or in any valid event. Events may name
-- a campaign the campaigns table does not know: it is kept, with is_known_campaign false.
with

campaigns as (
    select * from {{ ref('stg_raw__campaigns') }}
),

deliveries as (
    select * from {{ ref('fct_deliveries') }}
),

campaign_activity as (
    select
        campaign_id,
        count(*) as deliveries,
        count(distinct execution_id) as executions,
        min(execution_started_at) as first_execution_started_at,
        max(last_event_at) as last_event_at
    from deliveries
    group by campaign_id
),

campaign_ids as (
    select campaign_id from campaigns
    union
    select campaign_id from campaign_activity
),

final as (
    select
        campaign_ids.campaign_id,
        coalesce(campaigns.campaign_name, campaign_ids.campaign_id) as campaign_name,
        campaigns.campaign_type,
        campaigns.campaign_id is not null as is_known_campaign,
        coalesce(campaign_activity.deliveries, 0) as deliveries,
        coalesce(campaign_activity.executions, 0) as executions,
        campaigns.created_at,
        campaign_activity.first_execution_started_at,
        campaign_activity.last_event_at
    from campaign_ids
    left join campaigns
        on campaign_ids.campaign_id = campaigns.campaign_id
    left join campaign_activity
        on campaign_ids.campaign_id = campaign_activity.campaign_id
)

select * from final
