-- The links that drive clicks across every delivery of the period: clicks, distinct
-- clicking messages, deliveries the link appears in, and its share of all clicks.
with

links as (
    select * from {{ ref('period_top_links') }}
),

links_overall as (
    select
        url,
        sum(clicks) as clicks,
        sum(unique_clicks) as unique_clicks,
        count(*) as deliveries
    from links
    group by url
),

shared as (
    select
        *,
        {{ safe_divide('clicks', 'sum(clicks) over ()') }} as share_of_all_clicks
    from links_overall
)

select * from shared
order by clicks desc
limit 50
