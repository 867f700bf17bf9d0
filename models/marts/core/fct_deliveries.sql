-- One row per delivery: campaign x execution x channel, over all history.
with

messages as (
    select * from {{ ref('fct_messages') }}
),

first_hard_bounces as (
    select * from {{ ref('int_recipients_first_hard_bounced') }}
),

{{ delivery_rollup_ctes('messages', 'first_hard_bounces') }}

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(["campaign_id", "'|'", "execution_id", "'|'", "channel"])) }} as delivery_key,
        campaign_id,
        execution_id,
        channel,
        -- timestamps
        coalesce(first_feedback_at, first_event_at) as execution_started_at,
        last_event_at,
        -- counts and rates
        {{ delivery_statistics_columns() }},
        {{ safe_divide('new_quarantines', 'sent') }} as new_quarantine_rate
    from deliveries_derived
)

select * from final
