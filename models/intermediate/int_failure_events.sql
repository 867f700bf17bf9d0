-- One row per valid feedback event that excludes, errors or bounces a message, with its
-- reason's label and category (seed reason_codes; unknown codes: category 'other').
-- Input of the reason breakdowns and the non-deliverables report.
with

feedback as (
    select * from {{ ref('stg_raw__message_feedback_events') }}
),

reason_codes as (
    select * from {{ ref('reason_codes') }}
),

failures as (
    select
        feedback.event_id,
        feedback.campaign_id,
        feedback.execution_id,
        feedback.channel,
        feedback.message_id,
        feedback.status,
        case feedback.status
            when 'excluded' then 'exclusion'
            when 'error' then 'error'
            when 'bounce' then 'bounce'
        end as reason_kind,
        feedback.failure_type,
        feedback.reason,
        coalesce(reason_codes.reason_label, feedback.reason) as reason_label,
        coalesce(reason_codes.reason_category, 'other') as reason_category,
        feedback.recipient_domain,
        feedback.event_ts,
        feedback._loaded_at
    from feedback
    left join reason_codes
        on feedback.reason = reason_codes.reason_code
    where feedback.status in ('excluded', 'error', 'bounce')
)

select * from failures
