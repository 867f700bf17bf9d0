{#- Content experiments (docs/decisions.md, "Content experiments"): the vars, validated; the
    success metrics, from the one metric list; and one query that gives every treatment's
    results at every look up to an instant, which the marts experiment_result_looks and
    experiment_results and the function experiment_results_as_of(as_of) all render. -#}

{#- The confidence level of the bounds and of the verdict (default 0.95, the platform's). -#}
{% macro experiment_confidence_level() -%}
    {{ return(_fraction_var('experiment_confidence_level', 0.95, 0.5, 0.999)) }}
{%- endmacro %}

{#- rho squared of the confidence sequence's mixture boundary: the sample size at which the
    bounds are tightest is about (-2 ln(alpha) + ln(1 - 2 ln(alpha))) / rho^2. Default
    10^-2.8 (the platform's universal value: tightest near 5,000 profiles at 95 %). -#}
{% macro experiment_rho_squared() -%}
    {{ return(_fraction_var('experiment_rho_squared', 0.001584893192461114, 0.000000001, 1.0)) }}
{%- endmacro %}

{% macro _fraction_var(name, default, minimum, maximum) -%}
    {%- set raw = var(name, default) -%}
    {%- set text = raw | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]*\.?[0-9]+([eE]-?[0-9]+)?', text) -%}
        {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": expected a number from " ~ minimum ~ " to " ~ maximum ~ ", got " ~ (text | tojson)) }}
    {%- endif -%}
    {%- set value = text | float -%}
    {%- if value < minimum or value > maximum -%}
        {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": expected a number from " ~ minimum ~ " to " ~ maximum ~ ", got " ~ text) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- Hours after its assignment within which a profile's success counts (default 24): a
    profile enters the results when its window has passed, with its final value, so every
    look estimates the same rate ("succeeded within 24 h of the send"). -#}
{% macro experiment_outcome_window_hours() -%}
    {{ return(_integer_var('experiment_outcome_window_hours', 24, 1, 2160)) }}
{%- endmacro %}

{#- The baseline treatment of chosen experiments ({experiment_id: treatment_id}); every other
    experiment's baseline is its lowest treatment_id outside the holdout. -#}
{% macro experiment_baseline_treatments() -%}
    {%- set raw = var('experiment_baseline_treatments', {}) -%}
    {%- if raw is none -%}{{ return({}) }}{%- endif -%}
    {%- if raw is not mapping -%}
        {{ exceptions.raise_compiler_error("Invalid var experiment_baseline_treatments: expected a mapping {experiment_id: treatment_id}, got " ~ (raw | string | tojson)) }}
    {%- endif -%}
    {%- for key, value in raw.items() -%}
        {%- if value is none or (value | string | trim) == '' or (key | string | trim) == '' -%}
            {{ exceptions.raise_compiler_error("Invalid var experiment_baseline_treatments: " ~ (key | string | tojson) ~ " needs a treatment id") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(raw) }}
{%- endmacro %}

{#- The instant the experiment marts report (var experiment_results_as_of, UTC
    'YYYY-MM-DD HH:MM:SS'); by default the run's report_as_of. -#}
{% macro experiment_results_as_of_value() -%}
    {%- set parsed = _parse_timestamp_var('experiment_results_as_of') -%}
    {{ return(parsed if parsed is not none else report_as_of_value()) }}
{%- endmacro %}

{#- The success metrics, each a metric of report_metrics() flagged `experiment`, counted per
    profile: `unique` (a message metric `<event metric> > 0`: 1 when the profile has such an
    event) or a count (an event metric: the profile's events). Each with the event type and
    whether only a human's events count. -#}
{% macro experiment_success_metrics() -%}
    {%- set resolved = [] -%}
    {%- for metric in report_metrics() if metric.get('experiment') -%}
        {%- if metric.kind == 'event' -%}
            {%- set event = metric -%}
            {%- set unique = false -%}
        {%- else -%}
            {%- set event = report_metric(metric.condition.split(' ')[0]) -%}
            {%- set unique = true -%}
        {%- endif -%}
        {%- if event.kind != 'event' or event.event_type not in ('open', 'click') or metric.kind not in ('event', 'message') -%}
            {{ exceptions.raise_compiler_error("experiment metric " ~ metric.name ~ " must count opens or clicks") }}
        {%- endif -%}
        {%- do resolved.append({'name': metric.name, 'event_type': event.event_type, 'human': event.get('human', false), 'unique': unique}) -%}
    {%- endfor -%}
    {{ return(resolved) }}
{%- endmacro %}

{#- The look that first sees a change at `column` (a timestamp; `column_us`, the same instant
    in epoch microseconds, exact on every engine): the end of its UTC hour (an instant on the
    hour is its own hour's end), or the report instant when that comes first. -#}
{% macro _experiment_look_at(column, column_us, as_of) -%}
    case
        when {{ column_us }} % 3600000000 = 0 and {{ column_us }} < {{ epoch_microseconds(as_of) }}
            then {{ dbt.date_trunc('hour', column) }}
        when {{ dbt.dateadd('hour', 1, dbt.date_trunc('hour', column)) }} < {{ as_of }}
            then {{ dbt.dateadd('hour', 1, dbt.date_trunc('hour', column)) }}
        else {{ as_of }}
    end
{%- endmacro %}

{#- Every treatment x success metric of every experiment at every look up to `as_of` (a SQL
    timestamp expression, UTC): the looks are the ends of the UTC hours in which profiles
    were assigned or succeeded, and `as_of` itself (an hour without a change leaves every
    figure as it was, so these looks give the same running bounds as every hour's end).
    Per look: the cumulative counts, the observed difference with the baseline, the
    asymptotic confidence sequence at this look, and the running intersection of the
    sequence over the looks so far (lower_bound, upper_bound) with the anytime-valid
    p-value (its running minimum). The formulas are in docs/decisions.md. -#}
{% macro experiment_looks_query(as_of, relation=ref) -%}
    {%- set level = experiment_confidence_level() -%}
    {%- set alpha = 1 - level -%}
    {%- set rho2 = experiment_rho_squared() -%}
    {%- set baselines = experiment_baseline_treatments() -%}
    {%- set window_hours = experiment_outcome_window_hours() -%}
    {%- set unique_metrics = experiment_success_metrics() | selectattr('unique') | map(attribute='name') | list -%}
    {%- set double = type_double() -%}
with

assignments as (
    select
        experiment_id,
        experiment_name,
        profile_id,
        campaign_id,
        treatment_id,
        treatment_name,
        is_holdout,
        assigned_at,
        -- Spark's dateadd drops the fraction of a second: compare in microseconds
        {{ dbt.dateadd('hour', window_hours, 'assigned_at') }} as matured_at,
        {{ epoch_microseconds('assigned_at') }} + {{ window_hours * 3600000000 }} as matured_us
    from {{ relation('fct_experiment_assignments') }}
    where assigned_at <= {{ as_of }}
),

-- a profile counts once its outcome window has passed, with every success in the window
matured as (
    select * from assignments
    where matured_us <= {{ epoch_microseconds(as_of) }}
),

outcomes as (
    select
        outcomes.experiment_id,
        matured.treatment_id,
        outcomes.success_metric,
        outcomes.success_rank,
        matured.matured_at,
        matured.matured_us
    from {{ relation('fct_experiment_outcomes') }} as outcomes
    inner join matured
        on
            outcomes.experiment_id = matured.experiment_id
            and outcomes.profile_id = matured.profile_id
    where {{ epoch_microseconds('outcomes.occurred_at') }} <= matured.matured_us
),

success_metrics as (
    {%- for metric in experiment_success_metrics() %}
    select '{{ metric.name }}' as success_metric
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

changes as (
    select
        matured.experiment_id,
        matured.treatment_id,
        success_metrics.success_metric,
        {{ _experiment_look_at('matured.matured_at', 'matured.matured_us', as_of) }} as look_at,
        1 as new_profiles,
        0 as new_successes,
        0 as new_squares
    from matured
    cross join success_metrics
    union all
    select
        experiment_id,
        treatment_id,
        success_metric,
        {{ _experiment_look_at('matured_at', 'matured_us', as_of) }} as look_at,
        0 as new_profiles,
        1 as new_successes,
        -- a profile's k-th success raises its squared value from (k-1)^2 to k^2
        2 * success_rank - 1 as new_squares
    from outcomes
),

look_changes as (
    select
        experiment_id,
        treatment_id,
        success_metric,
        look_at,
        sum(new_profiles) as new_profiles,
        sum(new_successes) as new_successes,
        sum(new_squares) as new_squares
    from changes
    group by experiment_id, treatment_id, success_metric, look_at
),

experiment_looks as (
    select
        experiment_id,
        look_at
    from look_changes
    -- the report instant is a look of every experiment assigned by then, changed or not
    union
    select
        experiment_id,
        {{ as_of }} as look_at
    from assignments
),

treatments as (
    select
        experiment_id,
        treatment_id,
        min(treatment_name) as treatment_name,
        max(case when is_holdout then 1 else 0 end) = 1 as is_holdout
    from assignments
    group by experiment_id, treatment_id
),

experiments as (
    select
        experiment_id,
        min(experiment_name) as experiment_name,
        min(campaign_id) as campaign_id,
        min(assigned_at) as first_assigned_at,
        coalesce(
            {%- if baselines %}
            case experiment_id
                {%- for experiment, treatment in baselines.items() %}
                when '{{ experiment | string | replace("'", "''") }}' then '{{ treatment | string | replace("'", "''") }}'
                {%- endfor %}
            end,
            {%- endif %}
            min(case when not is_holdout then treatment_id end)
        ) as baseline_treatment_id
    from assignments
    group by experiment_id
),

grid as (
    select
        treatments.experiment_id,
        treatments.treatment_id,
        success_metrics.success_metric,
        experiment_looks.look_at
    from treatments
    cross join success_metrics
    inner join experiment_looks
        on treatments.experiment_id = experiment_looks.experiment_id
),

cumulative as (
    select
        grid.experiment_id,
        grid.treatment_id,
        grid.success_metric,
        grid.look_at,
        cast(sum(coalesce(look_changes.new_profiles, 0)) over (
            partition by grid.experiment_id, grid.treatment_id, grid.success_metric
            order by grid.look_at rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as profiles,
        cast(sum(coalesce(look_changes.new_successes, 0)) over (
            partition by grid.experiment_id, grid.treatment_id, grid.success_metric
            order by grid.look_at rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as successes,
        cast(sum(coalesce(look_changes.new_squares, 0)) over (
            partition by grid.experiment_id, grid.treatment_id, grid.success_metric
            order by grid.look_at rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as sum_of_squares
    from grid
    left join look_changes
        on
            grid.experiment_id = look_changes.experiment_id
            and grid.treatment_id = look_changes.treatment_id
            and grid.success_metric = look_changes.success_metric
            and grid.look_at = look_changes.look_at
),

paired as (
    select
        cumulative.experiment_id,
        experiments.experiment_name,
        experiments.campaign_id,
        experiments.first_assigned_at,
        cumulative.treatment_id,
        treatments.treatment_name,
        treatments.is_holdout,
        coalesce(cumulative.treatment_id = experiments.baseline_treatment_id, false) as is_baseline,
        experiments.baseline_treatment_id,
        cumulative.success_metric,
        cumulative.look_at,
        cumulative.profiles,
        cumulative.successes,
        cumulative.sum_of_squares,
        baseline.profiles as baseline_profiles,
        baseline.successes as baseline_successes,
        baseline.sum_of_squares as baseline_sum_of_squares,
        cast(cumulative.profiles + baseline.profiles as {{ double }}) as compared_profiles
    from cumulative
    inner join experiments
        on cumulative.experiment_id = experiments.experiment_id
    inner join treatments
        on
            cumulative.experiment_id = treatments.experiment_id
            and cumulative.treatment_id = treatments.treatment_id
    left join cumulative as baseline
        on
            cumulative.experiment_id = baseline.experiment_id
            and experiments.baseline_treatment_id = baseline.treatment_id
            and cumulative.success_metric = baseline.success_metric
            and cumulative.look_at = baseline.look_at
),

rates as (
    select
        *,
        {{ safe_divide('successes', 'profiles') }} as conversion_rate,
        {{ safe_divide('baseline_successes', 'baseline_profiles') }} as baseline_conversion_rate
    from paired
),

differences as (
    select
        *,
        case when not is_baseline then conversion_rate - baseline_conversion_rate end as difference,
        -- the sample variance of the inverse-propensity pseudo-outcomes (N Y / n in the
        -- treatment, -N Y / n0 in the baseline), whose mean is the difference
        case
            when not is_baseline and profiles > 0 and baseline_profiles > 0
                then (
                    compared_profiles * compared_profiles * (
                        cast(sum_of_squares as {{ double }}) / (cast(profiles as {{ double }}) * profiles)
                        + cast(baseline_sum_of_squares as {{ double }}) / (cast(baseline_profiles as {{ double }}) * baseline_profiles)
                    )
                    - compared_profiles * (conversion_rate - baseline_conversion_rate) * (conversion_rate - baseline_conversion_rate)
                ) / (compared_profiles - 1)
        end as pseudo_outcome_variance
    from rates
),

looks as (
    select
        *,
        case
            when pseudo_outcome_variance > 0
                then sqrt(pseudo_outcome_variance) * sqrt(
                    2 * (compared_profiles * {{ rho2 }} + 1) / (compared_profiles * compared_profiles * {{ rho2 }})
                    * ln(sqrt(compared_profiles * {{ rho2 }} + 1) / {{ alpha }})
                )
        end as look_radius,
        case
            when is_baseline then null
            when pseudo_outcome_variance > 0
                then least(1.0, sqrt(compared_profiles * {{ rho2 }} + 1) * exp(greatest(-700.0,
                    -(compared_profiles * compared_profiles * {{ rho2 }} * difference * difference)
                    / (2 * pseudo_outcome_variance * (compared_profiles * {{ rho2 }} + 1))
                )))
            when profiles > 0 and baseline_profiles > 0 then 1.0
        end as look_p_value
    from differences
),

-- a difference of two shares lies in [-1, 1]: a unique metric's bounds are cut there (the
-- sequence intersected with what is known for certain; 0 stays in or out as it was)
bounded as (
    select
        *,
        case
            -- greatest and least skip nulls: no bounds stay no bounds
            when look_radius is null then null
            when success_metric in ({{ sql_string_list(unique_metrics) }})
                then greatest(-1.0, difference - look_radius)
            else difference - look_radius
        end as look_lower,
        case
            when look_radius is null then null
            when success_metric in ({{ sql_string_list(unique_metrics) }})
                then least(1.0, difference + look_radius)
            else difference + look_radius
        end as look_upper
    from looks
),

running as (
    select
        *,
        look_lower as look_lower_bound,
        look_upper as look_upper_bound,
        max(look_lower) over (
            partition by experiment_id, treatment_id, success_metric
            order by look_at rows between unbounded preceding and current row
        ) as lower_bound,
        min(look_upper) over (
            partition by experiment_id, treatment_id, success_metric
            order by look_at rows between unbounded preceding and current row
        ) as upper_bound,
        min(look_p_value) over (
            partition by experiment_id, treatment_id, success_metric
            order by look_at rows between unbounded preceding and current row
        ) as p_value,
        cast(count(*) over (
            partition by experiment_id, treatment_id, success_metric
            order by look_at rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as looks
    from bounded
),

final as (
    select
        experiment_id,
        experiment_name,
        campaign_id,
        first_assigned_at,
        treatment_id,
        treatment_name,
        is_holdout,
        is_baseline,
        baseline_treatment_id,
        success_metric,
        look_at,
        looks,
        profiles,
        successes,
        sum_of_squares,
        conversion_rate,
        baseline_profiles,
        baseline_successes,
        baseline_conversion_rate,
        difference,
        case when not is_baseline then {{ safe_divide('difference', 'baseline_conversion_rate') }} end as lift,
        look_lower_bound,
        look_upper_bound,
        look_p_value,
        lower_bound,
        upper_bound,
        p_value,
        1 - p_value as confidence,
        cast({{ level }} as {{ double }}) as confidence_level,
        coalesce(lower_bound > 0 or upper_bound < 0, false) as is_significant
    from running
)

select * from final
{%- endmacro %}

{#- The results at `as_of`: the last look of experiment_looks_query, with the experiment's
    verdict per success metric (the best treatment, or inconclusive), the profiles assigned
    by then (whose outcome window may still be open) and those of them seen in another
    treatment than their first. -#}
{% macro experiment_results_query(as_of, relation=ref) -%}
with

looks as (
    {{ experiment_looks_query(as_of, relation) }}
),

latest as (
    select * from looks
    where look_at = {{ as_of }}
),

assigned as (
    select
        experiment_id,
        treatment_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as profiles_assigned,
        {{ count_where('first_other_treatment_at <= ' ~ as_of) }} as profiles_seen_in_other_treatments
    from {{ relation('fct_experiment_assignments') }}
    where assigned_at <= {{ as_of }}
    group by experiment_id, treatment_id
),

compared as (
    select
        *,
        -- the treatments compared with the baseline: every other one outside the holdout
        not is_baseline and not is_holdout as is_contender,
        not is_baseline and not is_holdout and lower_bound > 0 as is_winner
    from latest
),

ranked as (
    select
        *,
        row_number() over (
            partition by experiment_id, success_metric
            order by case when is_winner then 0 else 1 end, conversion_rate desc, treatment_id
        ) as winner_rank,
        sum(case when is_contender then 1 else 0 end) over (partition by experiment_id, success_metric) as contenders,
        sum(case when is_contender and upper_bound < 0 then 1 else 0 end)
            over (partition by experiment_id, success_metric) as contenders_behind
    from compared
),

verdicts as (
    select
        experiment_id,
        success_metric,
        max(baseline_treatment_id) as baseline_treatment_id,
        max(case when is_winner and winner_rank = 1 then treatment_id end) as winner_treatment_id,
        max(contenders) as contenders,
        max(contenders_behind) as contenders_behind
    from ranked
    group by experiment_id, success_metric
),

decided as (
    select
        experiment_id,
        success_metric,
        -- a treatment whose whole interval lies above the baseline (the best rate among
        -- them); else the baseline when every contender's lies below it
        case
            when winner_treatment_id is not null then winner_treatment_id
            when contenders > 0 and contenders_behind = contenders then baseline_treatment_id
        end as best_treatment_id,
        case
            when winner_treatment_id is not null then 'treatment_wins'
            when contenders > 0 and contenders_behind = contenders then 'baseline_wins'
            when contenders = 0 then 'no_contender'
            else 'inconclusive'
        end as verdict
    from verdicts
),

final as (
    select
        latest.experiment_id,
        latest.experiment_name,
        latest.campaign_id,
        latest.first_assigned_at,
        latest.treatment_id,
        latest.treatment_name,
        latest.is_holdout,
        latest.is_baseline,
        latest.baseline_treatment_id,
        latest.success_metric,
        latest.look_at as results_as_of,
        latest.looks,
        latest.profiles,
        latest.successes,
        latest.conversion_rate,
        latest.baseline_profiles,
        latest.baseline_successes,
        latest.baseline_conversion_rate,
        latest.difference,
        latest.lift,
        latest.look_lower_bound,
        latest.look_upper_bound,
        latest.lower_bound,
        latest.upper_bound,
        latest.p_value,
        latest.confidence,
        latest.confidence_level,
        latest.is_significant,
        decided.best_treatment_id,
        coalesce(latest.treatment_id = decided.best_treatment_id, false) as is_best_treatment,
        decided.best_treatment_id is null as is_inconclusive,
        decided.verdict,
        assigned.profiles_assigned,
        assigned.profiles_seen_in_other_treatments
    from latest
    inner join decided
        on
            latest.experiment_id = decided.experiment_id
            and latest.success_metric = decided.success_metric
    inner join assigned
        on
            latest.experiment_id = assigned.experiment_id
            and latest.treatment_id = assigned.treatment_id
)

select * from final
{%- endmacro %}
