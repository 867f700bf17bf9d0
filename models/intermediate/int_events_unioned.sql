-- One row per valid, deduplicated event of any kind (feedback, tracking, offer
-- proposition) in one shape, so that a metric is counted by one expression over one
-- relation (macros/event_count_metrics.sql) whatever the window.
with

feedback as (
    select * from {{ ref('stg_raw__message_feedback_events') }}
),

tracking as (
    select * from {{ ref('stg_raw__message_tracking_events') }}
),

propositions as (
    select * from {{ ref('stg_raw__offer_propositions') }}
),

unioned as (
    select
        'feedback' as event_source,
        event_id,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        status as event_type,
        failure_type,
        reason,
        recipient_address_hash,
        recipient_domain,
        platform,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as element_id,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        cast(null as {{ dbt.type_boolean() }}) as is_bot,
        event_ts,
        ingested_at,
        _loaded_at
    from feedback

    union all

    select
        'tracking' as event_source,
        event_id,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        interaction as event_type,
        cast(null as {{ dbt.type_string() }}) as failure_type,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_string() }}) as recipient_address_hash,
        cast(null as {{ dbt.type_string() }}) as recipient_domain,
        platform,
        url,
        element_id,
        offer_id,
        user_agent,
        is_bot,
        event_ts,
        ingested_at,
        _loaded_at
    from tracking

    union all

    select
        'proposition' as event_source,
        event_id,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        'proposition' as event_type,
        cast(null as {{ dbt.type_string() }}) as failure_type,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_string() }}) as recipient_address_hash,
        cast(null as {{ dbt.type_string() }}) as recipient_domain,
        cast(null as {{ dbt.type_string() }}) as platform,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as element_id,
        offer_id,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        cast(null as {{ dbt.type_boolean() }}) as is_bot,
        event_ts,
        ingested_at,
        _loaded_at
    from propositions
)

select * from unioned
