-- One row per content experiment x profile x success metric x event that raised the
-- profile's value of the metric: the first open (unique_opens), every click (clicks), ...
-- (experiment_success_metrics; docs/decisions.md, "Content experiments"). A profile's
-- events are those of every message of the experiment sent to it, whatever the treatment
-- (intention to treat: the first treatment keeps them). success_rank numbers a profile's
-- events per metric, so sums of squares at any instant come from counts (k^2 - (k-1)^2).
with

experiment_messages as (
    select distinct
        experiment_id,
        profile_id,
        message_id
    from {{ ref('stg_raw__message_feedback_events') }}
    where experiment_id is not null
),

open_click_events as (
    select
        event_id,
        message_id,
        event_type,
        event_ts,
        is_machine
    from {{ ref('fct_open_click_events') }}
),

matched as (
    select
        experiment_messages.experiment_id,
        experiment_messages.profile_id,
        open_click_events.event_id,
        open_click_events.event_type,
        open_click_events.event_ts,
        open_click_events.is_machine
    from experiment_messages
    inner join open_click_events
        on experiment_messages.message_id = open_click_events.message_id
),

metric_events as (
    {%- for metric in experiment_success_metrics() %}
    select
        experiment_id,
        profile_id,
        '{{ metric.name }}' as success_metric,
        {{ 'true' if metric.unique else 'false' }} as is_unique_metric,
        event_id,
        event_ts
    from matched
    where event_type = '{{ metric.event_type }}'{% if metric.human %} and not is_machine{% endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

ranked as (
    select
        *,
        cast(row_number() over (
            partition by experiment_id, profile_id, success_metric
            order by event_ts, event_id
        ) as {{ dbt.type_bigint() }}) as success_rank
    from metric_events
),

final as (
    select
        experiment_id,
        profile_id,
        success_metric,
        success_rank,
        event_id,
        event_ts as occurred_at
    from ranked
    -- a unique metric is raised once, by the profile's first such event
    where not is_unique_metric or success_rank = 1
)

select * from final
