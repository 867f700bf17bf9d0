-- The hourly retry queue of the live time series (retries after each hour's events) ends,
-- in the window's last hour, at the window's retries: messages whose last feedback event
-- in the window is a retry. Per delivery and per campaign tab.
{{ config(tags=['live_tests']) }}

with

delivery_series as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ arg_max('retries', 'hour_start') }} as last_hour_retries
    from {{ ref('live_delivery_timeseries') }}
    group by campaign_id, execution_id, channel
),

deliveries as (
    select * from {{ ref('live_delivery_statistics') }}
),

tab_series as (
    select
        campaign_id,
        channel,
        {{ arg_max('retries', 'hour_start') }} as last_hour_retries
    from {{ ref('live_channel_timeseries') }}
    group by campaign_id, channel
),

tabs as (
    select * from {{ ref('live_channel_statistics') }}
),

mismatches as (
    select
        'delivery' as grain,
        deliveries.campaign_id,
        deliveries.channel,
        deliveries.retries,
        delivery_series.last_hour_retries
    from deliveries
    inner join delivery_series
        on
            deliveries.campaign_id = delivery_series.campaign_id
            and deliveries.execution_id = delivery_series.execution_id
            and deliveries.channel = delivery_series.channel
    where deliveries.retries != delivery_series.last_hour_retries

    union all

    select
        'tab' as grain,
        tabs.campaign_id,
        tabs.channel,
        tabs.retries,
        tab_series.last_hour_retries
    from tabs
    inner join tab_series
        on
            tabs.campaign_id = tab_series.campaign_id
            and tabs.channel = tab_series.channel
    where tabs.retries != tab_series.last_hour_retries
)

select * from mismatches
