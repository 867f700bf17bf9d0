-- One row per rejected raw row of any raw table, with every reason. Kept so that nothing
-- is silently dropped; recipient addresses stay hashed here too.
with

feedback as (
    select * from {{ ref('base_raw__message_feedback_events') }}
),

tracking as (
    select * from {{ ref('base_raw__message_tracking_events') }}
),

propositions as (
    select * from {{ ref('base_raw__offer_propositions') }}
),

campaigns as (
    select * from {{ ref('base_raw__campaigns') }}
),

rejected_unioned as (
    select
        'message_feedback_events' as table_name,
        event_id,
        campaign_id,
        message_id,
        channel,
        status as event_type,
        event_ts_text,
        rejection_reasons,
        _load_id,
        _source_file,
        _loaded_at
    from feedback
    where row_status = 'rejected'

    union all

    select
        'message_tracking_events' as table_name,
        event_id,
        campaign_id,
        message_id,
        channel,
        interaction as event_type,
        event_ts_text,
        rejection_reasons,
        _load_id,
        _source_file,
        _loaded_at
    from tracking
    where row_status = 'rejected'

    union all

    select
        'offer_propositions' as table_name,
        event_id,
        campaign_id,
        message_id,
        channel,
        'proposition' as event_type,
        event_ts_text,
        rejection_reasons,
        _load_id,
        _source_file,
        _loaded_at
    from propositions
    where row_status = 'rejected'

    union all

    select
        'campaigns' as table_name,
        cast(null as {{ dbt.type_string() }}) as event_id,
        campaign_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        campaign_type as event_type,
        created_at_text as event_ts_text,
        rejection_reasons,
        _load_id,
        _source_file,
        _loaded_at
    from campaigns
    where row_status = 'rejected'
)

select * from rejected_unioned
