-- One row per delivery x clicked URL in the period window: clicks, distinct clicking
-- messages, share of all the delivery's clicks, and the link's rank (1 = most clicked; ties
-- broken by URL). "Top 10 links": filter link_rank <= 10.
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where
        event_source = 'tracking'
        and event_type = 'click'
        and {{ in_period_window('event_ts') }}
),

links_counted as (
    select
        campaign_id,
        execution_id,
        channel,
        coalesce(url, 'unknown') as url,
        count(*) as clicks,
        count(distinct message_id) as unique_clicks
    from events
    group by campaign_id, execution_id, channel, coalesce(url, 'unknown')
),

final as (
    select
        campaign_id,
        execution_id,
        channel,
        url,
        clicks,
        unique_clicks,
        {{ safe_divide('clicks', 'sum(clicks) over (partition by campaign_id, execution_id, channel)') }} as share_of_clicks,
        row_number() over (partition by campaign_id, execution_id, channel order by clicks desc, url asc) as link_rank
    from links_counted
)

select * from final
