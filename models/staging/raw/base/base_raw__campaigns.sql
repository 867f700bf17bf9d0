-- Every raw campaign row, typed and validated; the latest arrival of a campaign_id wins
-- (a dimension: the newest name is the right one), older copies count as duplicates.
with

source as (
    select * from {{ source('raw', 'campaigns') }}
),

cleaned as (
    select
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_enum('campaign_type') }} as campaign_type,
        {{ clean_text('created_at') }} as created_at_text,
        {{ clean_text('ingested_at') }} as ingested_at_text,
        _load_id,
        _source_file,
        _loaded_at
    from source
),

typed as (
    select
        *,
        {{ parse_utc_timestamp('created_at_text') }} as created_at,
        {{ parse_utc_timestamp('ingested_at_text') }} as ingested_at
    from cleaned
),

validated as (
    select
        *,
        nullif(concat_ws(
            ',',
            case when campaign_id is null then 'missing_campaign_id' end,
            case
                when campaign_type not in ('scheduled', 'api_triggered', 'journey') then 'invalid_campaign_type'
            end,
            case when created_at_text is not null and created_at is null then 'invalid_created_at' end,
            case when ingested_at_text is not null and ingested_at is null then 'invalid_ingested_at' end
        ), '') as validation_reasons,
        {{ content_hash([
            'campaign_name',
            'campaign_type',
            'created_at'
        ]) }} as content_hash
    from typed
),

ranked as (
    select
        *,
        {{ dedup_rank_columns('campaign_id', latest_wins=true) }}
    from validated
),

final as (
    select
        campaign_id,
        campaign_name,
        campaign_type,
        created_at_text,
        ingested_at_text,
        created_at,
        ingested_at,
        _load_id,
        _source_file,
        _loaded_at,
        content_hash,
        -- A campaign renamed later is an update, not a conflict: every older copy is a duplicate.
        case
            when validation_reasons is not null then 'rejected'
            when copy_number = 1 then 'staged'
            else 'duplicate'
        end as row_status,
        validation_reasons as rejection_reasons
    from ranked
)

select * from final
