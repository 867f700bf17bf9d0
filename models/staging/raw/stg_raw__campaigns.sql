with

base as (
    select * from {{ ref('base_raw__campaigns') }}
),

staged as (
    select
        -- ids
        campaign_id,
        -- strings
        campaign_name,
        campaign_type,
        -- timestamps
        created_at,
        ingested_at,
        _loaded_at
    from base
    where row_status = 'staged'
)

select * from staged
