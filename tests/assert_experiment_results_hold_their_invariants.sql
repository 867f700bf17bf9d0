-- The content experiments' invariants (docs/decisions.md, "Content experiments"), on
-- experiment_result_looks (every look) and experiment_results (the report instant):
-- * the treatments' profiles add up to the experiment's (assigned, and counted once their
--   outcome window has passed), from fct_experiment_assignments;
-- * each look's bounds contain the observed difference;
-- * the running bounds lie within each look's, and a later look's within an earlier's
--   (lower_bound never falls, upper_bound never rises, the p-value never rises);
-- * significant exactly when the p-value is at most 1 - confidence_level;
-- * a unique metric's successes are at most its profiles;
-- * one baseline per experiment and metric; the results are the looks at the instant.
-- Fails with each experiment, treatment, metric and look that breaks one, and the check.
with

looks as (
    select * from {{ ref('experiment_result_looks') }}
),

results as (
    select * from {{ ref('experiment_results') }}
),

assignments as (
    select * from {{ ref('fct_experiment_assignments') }}
),

as_of as (
    select max(results_as_of) as results_as_of from results
),

experiment_profiles as (
    select
        assignments.experiment_id,
        count(*) as profiles_assigned,
        sum(
            case
                when
                    {{ epoch_microseconds('assignments.assigned_at') }} + {{ experiment_outcome_window_hours() * 3600000000 }}
                    <= {{ epoch_microseconds('as_of.results_as_of') }}
                    then 1
                else 0
            end
        ) as profiles
    from assignments
    cross join as_of
    where assignments.assigned_at <= as_of.results_as_of
    group by assignments.experiment_id
),

result_totals as (
    select
        experiment_id,
        success_metric,
        sum(profiles) as profiles,
        sum(profiles_assigned) as profiles_assigned,
        {{ count_where('is_baseline') }} as baselines
    from results
    group by experiment_id, success_metric
),

sequenced as (
    select
        *,
        lag(lower_bound) over (partition by experiment_id, treatment_id, success_metric order by look_at) as previous_lower_bound,
        lag(upper_bound) over (partition by experiment_id, treatment_id, success_metric order by look_at) as previous_upper_bound,
        lag(p_value) over (partition by experiment_id, treatment_id, success_metric order by look_at) as previous_p_value
    from looks
),

look_failures as (
    select experiment_id, treatment_id, success_metric, look_at, 'look bounds miss the difference' as failure
    from looks
    where look_lower_bound > difference + 1e-12 or look_upper_bound < difference - 1e-12
    union all
    select experiment_id, treatment_id, success_metric, look_at, 'running bounds outside the look bounds'
    from looks
    where lower_bound < look_lower_bound - 1e-12 or upper_bound > look_upper_bound + 1e-12
    union all
    select experiment_id, treatment_id, success_metric, look_at, 'bounds widened since the previous look'
    from sequenced
    where
        lower_bound < previous_lower_bound - 1e-12
        or upper_bound > previous_upper_bound + 1e-12
        or p_value > previous_p_value + 1e-12
        or (previous_lower_bound is not null and lower_bound is null)
    union all
    select experiment_id, treatment_id, success_metric, look_at, 'significance disagrees with the p-value'
    from looks
    where
        (is_significant and p_value > 1 - confidence_level + 1e-12)
        or (not is_significant and p_value < 1 - confidence_level - 1e-12)
    union all
    select experiment_id, treatment_id, success_metric, look_at, 'more successes than profiles'
    from looks
    where success_metric <> 'clicks' and successes > profiles
),

total_failures as (
    select
        result_totals.experiment_id,
        cast(null as {{ dbt.type_string() }}) as treatment_id,
        result_totals.success_metric,
        cast(null as {{ dbt.type_timestamp() }}) as look_at,
        'treatments do not add up to the experiment' as failure
    from result_totals
    left join experiment_profiles
        on result_totals.experiment_id = experiment_profiles.experiment_id
    where
        result_totals.profiles <> coalesce(experiment_profiles.profiles, -1)
        or result_totals.profiles_assigned <> coalesce(experiment_profiles.profiles_assigned, -1)
    union all
    select experiment_id, null, success_metric, null, 'not one baseline'
    from result_totals
    where baselines <> 1
    union all
    select experiment_profiles.experiment_id, null, null, null, 'experiment missing from the results'
    from experiment_profiles
    left join result_totals
        on experiment_profiles.experiment_id = result_totals.experiment_id
    where result_totals.experiment_id is null
),

instant_failures as (
    select results.experiment_id, results.treatment_id, results.success_metric, results.results_as_of as look_at,
        'results differ from the look at the instant' as failure
    from results
    left join looks
        on
            results.experiment_id = looks.experiment_id
            and results.treatment_id = looks.treatment_id
            and results.success_metric = looks.success_metric
            and results.results_as_of = looks.look_at
    where
        looks.experiment_id is null
        or results.profiles <> looks.profiles
        or results.successes <> looks.successes
        or coalesce(results.lower_bound, -9) <> coalesce(looks.lower_bound, -9)
        or coalesce(results.upper_bound, 9) <> coalesce(looks.upper_bound, 9)
)

select * from look_failures
union all
select * from total_failures
union all
select * from instant_failures
