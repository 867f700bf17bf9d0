-- One row per delivery x reason kind (exclusion, error, bounce) x failure type x reason
-- code with events in the live window: counts and their share of the delivery's
-- exclusions, errors or bounces. Serves error, exclusion and bounce reason widgets and
-- bounce categories (group by failure_type).
with

failures as (
    select * from {{ ref('int_failure_events') }}
    where {{ in_live_window('event_ts') }}
),

reasons_counted as (
    select
        campaign_id,
        execution_id,
        channel,
        reason_kind,
        coalesce(failure_type, 'unspecified') as failure_type,
        reason,
        min(reason_label) as reason_label,
        min(reason_category) as reason_category,
        count(*) as events
    from failures
    group by campaign_id, execution_id, channel, reason_kind, coalesce(failure_type, 'unspecified'), reason
),

final as (
    select
        campaign_id,
        execution_id,
        channel,
        reason_kind,
        failure_type,
        reason,
        reason_label,
        reason_category,
        events,
        {{ safe_divide('events', 'sum(events) over (partition by campaign_id, execution_id, channel, reason_kind)') }}
            as share_of_kind,
        {{ live_window_start() }} as window_start,
        {{ live_window_end() }} as window_end
    from reasons_counted
)

select * from final
