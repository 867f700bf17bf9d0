-- One row per delivery x reason kind (exclusion, error, bounce) x failure type x reason
-- code x recipient domain with events in the period window. Serves "errors by type",
-- "errors by domain" and the "rejected by rules" breakdown of the period report.
with

failures as (
    select * from {{ ref('int_failure_events') }}
    where {{ in_period_window('event_ts') }}
),

final as (
    select
        campaign_id,
        execution_id,
        channel,
        reason_kind,
        coalesce(failure_type, 'unspecified') as failure_type,
        reason,
        coalesce(recipient_domain, 'unknown') as recipient_domain,
        min(reason_label) as reason_label,
        min(reason_category) as reason_category,
        count(*) as events
    from failures
    group by
        campaign_id,
        execution_id,
        channel,
        reason_kind,
        coalesce(failure_type, 'unspecified'),
        reason,
        coalesce(recipient_domain, 'unknown')
)

select * from final
