-- One row per content experiment x profile: the treatment the profile's first send in the
-- experiment gave it (or the holdout, when the profile was excluded as the experiment's
-- holdout first), and whether it was later seen in another treatment (docs/decisions.md,
-- "Content experiments"). Rebuilt whole: a first send loaded late re-assigns its profile.
with

feedback as (
    select
        event_id,
        event_ts,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        status,
        reason,
        experiment_id,
        experiment_name,
        treatment_id,
        treatment_name
    from {{ ref('stg_raw__message_feedback_events') }}
    where experiment_id is not null
),

arm_events as (
    select
        *,
        status = 'excluded' and reason = 'holdout' as is_holdout_exclusion
    from feedback
    where status = 'sent' or (status = 'excluded' and reason = 'holdout')
),

assignable as (
    select
        event_id,
        event_ts,
        campaign_id,
        execution_id,
        channel,
        message_id,
        profile_id,
        experiment_id,
        experiment_name,
        is_holdout_exclusion as is_holdout,
        case when is_holdout_exclusion then coalesce(treatment_id, 'holdout') else treatment_id end as treatment_id,
        case when is_holdout_exclusion then coalesce(treatment_name, 'Holdout') else treatment_name end as treatment_name
    from arm_events
),

ranked as (
    select
        *,
        row_number() over (
            partition by experiment_id, profile_id
            order by event_ts, treatment_id, event_id
        ) as arrival_rank
    from assignable
    -- a send that names an experiment but no treatment names no arm
    where treatment_id is not null
),

first_arms as (
    select * from ranked
    where arrival_rank = 1
),

other_arms as (
    select
        ranked.experiment_id,
        ranked.profile_id,
        min(ranked.event_ts) as first_other_treatment_at,
        count(distinct ranked.treatment_id) as other_treatments
    from ranked
    inner join first_arms
        on
            ranked.experiment_id = first_arms.experiment_id
            and ranked.profile_id = first_arms.profile_id
    where ranked.treatment_id <> first_arms.treatment_id
    group by ranked.experiment_id, ranked.profile_id
),

final as (
    select
        first_arms.experiment_id,
        first_arms.profile_id,
        first_arms.experiment_name,
        first_arms.treatment_id,
        first_arms.treatment_name,
        first_arms.is_holdout,
        first_arms.event_ts as assigned_at,
        first_arms.event_id as assignment_event_id,
        first_arms.campaign_id,
        first_arms.execution_id,
        first_arms.channel,
        first_arms.message_id,
        1 + coalesce(other_arms.other_treatments, 0) as treatments_seen,
        other_arms.first_other_treatment_at
    from first_arms
    left join other_arms
        on
            first_arms.experiment_id = other_arms.experiment_id
            and first_arms.profile_id = other_arms.profile_id
)

select * from final
