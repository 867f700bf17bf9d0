{#- The delivery report of a window (report_window.sql), at a grain: one row per delivery,
    or per campaign x channel (a channel tab's KPI tiles). Every metric of
    report_metrics() flagged `report` over the window's events (the contract's counts, the
    pages' recipient counts, the period report's audience and execution statistics) and
    its rates. The live delivery statistics, the period delivery report and
    period_delivery_report_between all render this one query. -#}
{% macro delivery_report_query(window, grain='delivery') -%}
{%- set keys = report_grain_keys(grain) -%}
{%- set delivery_keys = report_grain_keys('delivery') -%}
{%- set adds_up = window_adds_up_delivery_hours(window) -%}
with

{% if adds_up -%}
{%- set profile_metrics = report_metrics_of_kind('profile') %}
{%- if profile_metrics | map(attribute='column') | list != ['targeted_profile_id'] %}
{{ exceptions.raise_compiler_error("delivery_report_query adds up profiles of targeted_profile_id only (fct_delivery_profile_spans)") }}
{%- endif %}
-- The window's delivery hours add up its event counts and times; the message-kind counts of
-- the messages whose first hour is in the window, as over all history (exact for the
-- messages wholly inside the window); and, per delivery, the profiles targeted in one hour.
-- Only the messages a bound cuts are rolled up from their hours (the window's rows added,
-- the all-history rows of those counted in their first hour taken back), and only the
-- profiles whose targeting span holds the whole window are checked against its rows. Equal to
-- rolling up every message of the window (tests/assert_period_functions_equal_full_rollup).
delivery_hours as (
    select * from {{ window_input(window, 'delivery_hours') }} as delivery_hours_in_window
),

cut_messages as (
    select * from {{ window_input(window, 'cut_messages') }} as cut_messages_in_window
),

-- A message with several targeting hours (rare) counts its window's targeted profile, as
-- the full rollup does.
several_targeting_profiles as (
    select * from {{ window_input(window, 'several_targeting_profiles') }} as several_targeting_profiles_in_window
),

{% if grain == 'delivery' -%}
profile_spans as (
    select * from {{ window_input(window, 'profile_spans') }} as profile_spans_in_window
),

-- The profiles whose count the additive parts may miss: those whose targeting span holds
-- the whole window (counted if targeted in it) and those of the messages with several
-- targeting hours (counted unless a targeting row of the window counts them already).
profile_candidates as (
    select
        campaign_id,
        execution_id,
        channel,
        targeted_profile_id,
        max(is_spanning) as is_spanning,
        max(is_several) as is_several
    from (
        select
            campaign_id,
            execution_id,
            channel,
            targeted_profile_id,
            1 as is_spanning,
            0 as is_several
        from profile_spans
        where not is_counted
        union all
        select
            campaign_id,
            execution_id,
            channel,
            targeted_profile_id,
            0 as is_spanning,
            1 as is_several
        from several_targeting_profiles
    ) as candidates
    group by campaign_id, execution_id, channel, targeted_profile_id
),

-- Each candidate with the number of the window's targeting rows (of messages with one
-- targeting hour) it has; one read of those rows, kept only where they match a candidate.
profile_candidates_present as (
    select
        profile_candidates.campaign_id,
        profile_candidates.execution_id,
        profile_candidates.channel,
        profile_candidates.targeted_profile_id,
        profile_candidates.is_spanning,
        profile_candidates.is_several,
        count(targeting_rows.targeted_profile_id) as targeting_rows
    from profile_candidates
    left join {{ window_input(window, 'targeting_rows') }} as targeting_rows
        on
            profile_candidates.campaign_id = targeting_rows.campaign_id
            and profile_candidates.execution_id = targeting_rows.execution_id
            and profile_candidates.channel = targeting_rows.channel
            and profile_candidates.targeted_profile_id = targeting_rows.targeted_profile_id
    group by
        profile_candidates.campaign_id,
        profile_candidates.execution_id,
        profile_candidates.channel,
        profile_candidates.targeted_profile_id,
        profile_candidates.is_spanning,
        profile_candidates.is_several
),

-- A profile whose span holds the window and that is targeted in it, or a profile of a
-- message with several targeting hours that no targeting row of the window has (a span
-- counted as such has its first or last targeting row in the window, so it is never one
-- of these).
distinct_profiles as (
    select
        campaign_id,
        execution_id,
        channel,
        targeted_profile_id
    from profile_candidates_present
    where
        (is_spanning = 1 and targeting_rows > 0)
        or (is_several = 1 and targeting_rows = 0)
),
{%- else %}
-- Distinct profiles across a campaign tab's deliveries never add up: counted over every
-- targeting row of the window.
distinct_profiles as (
    select * from {{ window_input(window, 'targeting_rows') }} as targeting_rows
    union
    select * from several_targeting_profiles
),
{%- endif %}
{%- else -%}
messages as (
    select * from {{ window_input(window, 'messages') }} as messages_in_window
),
{%- endif %}

first_hard_bounces as (
    select * from {{ unqualified_ref('fct_recipient_quarantines') }}
    where {{ window_contains(window, 'quarantined_at') }}
),

link_clicks as (
    select * from {{ window_input(window, 'link_clicks') }} as link_clicks_in_window
),

campaigns as (
    select
        campaign_id,
        campaign_name
    from {{ unqualified_ref('dim_campaigns') }}
),

{% if grain == 'delivery' -%}
delivery_starts as (
    select
        campaign_id,
        execution_id,
        channel,
        execution_started_at
    from {{ unqualified_ref('fct_deliveries') }}
),

{% endif -%}
{% if adds_up -%}
-- Every part, per delivery: the additive counts, and the profiles to count distinct.
{%- set message_metrics = report_metrics_of_kind('message') %}
{%- set event_metrics = report_metrics_of_kind('event') %}
delivery_parts as (
    select
        {{ delivery_keys | join(',\n        ') }},
        cast(null as {{ dbt.type_string() }}) as targeted_profile_id,
        {{ sum_count('single_hour_profiles') if grain == 'delivery' else '0' }} as added_profiles,
        {%- for metric in event_metrics %}
        {{ sum_count(metric.name) }} as {{ metric.name }},
        {%- endfor %}
        {%- for metric in message_metrics %}
        {{ sum_count('first_hour_' ~ metric.name) }} as {{ metric.name }},
        {%- endfor %}
        min(first_feedback_at) as first_feedback_at,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        max(hour_last_loaded_at) as last_loaded_at
    from delivery_hours
    group by {{ delivery_keys | join(', ') }}

    union all

    select
        {{ delivery_keys | join(',\n        ') }},
        cast(null as {{ dbt.type_string() }}) as targeted_profile_id,
        0 as added_profiles,
        {%- for metric in event_metrics %}
        0 as {{ metric.name }},
        {%- endfor %}
        {%- for metric in message_metrics %}
        cast(sum(case when {{ metric.condition }} then part_sign else 0 end) as {{ dbt.type_bigint() }}) as {{ metric.name }},
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as first_feedback_at,
        cast(null as {{ dbt.type_timestamp() }}) as first_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_loaded_at
    from cut_messages
    group by {{ delivery_keys | join(', ') }}

    union all

    {% if grain == 'delivery' -%}
    select
        {{ delivery_keys | join(',\n        ') }},
        cast(null as {{ dbt.type_string() }}) as targeted_profile_id,
        count(*) as added_profiles,
        {%- for metric in event_metrics + message_metrics %}
        0 as {{ metric.name }},
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as first_feedback_at,
        cast(null as {{ dbt.type_timestamp() }}) as first_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_loaded_at
    from profile_spans
    where is_counted
    group by {{ delivery_keys | join(', ') }}

    union all

    {% endif -%}
    select
        {{ delivery_keys | join(',\n        ') }},
        targeted_profile_id,
        0 as added_profiles,
        {%- for metric in event_metrics + message_metrics %}
        0 as {{ metric.name }},
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as first_feedback_at,
        cast(null as {{ dbt.type_timestamp() }}) as first_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_event_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_loaded_at
    from distinct_profiles
),

messages_aggregated as (
    select
        {{ keys | join(',\n        ') }},
        {%- if grain == 'channel' %}
        count(distinct execution_id) as executions,
        {%- endif %}
        {%- for metric in report_metrics() if metric.kind in ('event', 'message', 'profile') %}
        {%- if metric.kind == 'profile' %}
        {{ sum_count('added_profiles') }} + count(distinct targeted_profile_id) as {{ metric.name }},
        {%- else %}
        {{ sum_count(metric.name) }} as {{ metric.name }},
        {%- endif %}
        {%- endfor %}
        min(first_feedback_at) as first_feedback_at,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        max(last_loaded_at) as last_loaded_at
    from delivery_parts
    group by {{ keys | join(', ') }}
),
{%- else -%}
messages_aggregated as (
    select
        {{ keys | join(',\n        ') }},
        {%- if grain == 'channel' %}
        count(distinct execution_id) as executions,
        {%- endif %}
        {{ delivery_metric_aggregates() }}
    from messages
    group by {{ keys | join(', ') }}
),
{%- endif %}

quarantines_counted as (
    select
        {{ keys | join(',\n        ') }},
        count(*) as new_quarantines
    from first_hard_bounces
    group by {{ keys | join(', ') }}
),

forwards_estimated as (
    select
        {{ keys | join(',\n        ') }},
        {{ estimated_forwards_aggregate() }} as estimated_forwards
    from link_clicks
    group by {{ keys | join(', ') }}
),

counts_joined as (
    select
        messages_aggregated.*,
        coalesce(quarantines_counted.new_quarantines, 0) as new_quarantines,
        coalesce(forwards_estimated.estimated_forwards, 0) as estimated_forwards
    from messages_aggregated
    left join quarantines_counted
        on
            {% for key in keys -%}
            messages_aggregated.{{ key }} = quarantines_counted.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
    left join forwards_estimated
        on
            {% for key in keys -%}
            messages_aggregated.{{ key }} = forwards_estimated.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
),

metrics_derived as (
    select
        *,
        {{ delivery_derived_metrics() }}
    from counts_joined
),

final as (
    select
        -- ids
        {% for key in keys -%}
        metrics_derived.{{ key }},
        {% endfor -%}
        coalesce(campaigns.campaign_name, metrics_derived.campaign_id) as campaign_name,
        -- window and timestamps
        {{ window_bounds_columns(window) }},
        {% if grain == 'delivery' -%}
        delivery_starts.execution_started_at,
        coalesce({{ window_contains(window, 'delivery_starts.execution_started_at') }}, false) as is_sent_in_window,
        {%- else -%}
        metrics_derived.executions,
        {%- endif %}
        -- counts and rates
        {{ delivery_statistics_columns('metrics_derived') }}
    from metrics_derived
    left join campaigns
        on metrics_derived.campaign_id = campaigns.campaign_id
    {% if grain == 'delivery' -%}
    inner join delivery_starts
        on
            metrics_derived.campaign_id = delivery_starts.campaign_id
            and metrics_derived.execution_id = delivery_starts.execution_id
            and metrics_derived.channel = delivery_starts.channel
    {%- endif %}
)

select * from final
{%- endmacro %}
