{#- The suppression reports for a window (the static period marts and their
    period_*_between functions): one query per report section, as for the delivery reports. -#}

{#- Per delivery, the messages excluded because their address was suppressed in the
    window (by exclusion time), by the rule of the state that excluded them. -#}
{% macro suppression_exclusions_query(window) -%}
with

exclusions as (
    select * from {{ unqualified_ref('fct_suppression_exclusions') }}
    where {{ window_contains(window, 'excluded_at') }}
),

counted as (
    select
        campaign_id,
        execution_id,
        channel,
        count(*) as excluded_for_suppression,
        {{ count_where("suppression_rule = 'hard_bounce'") }} as excluded_after_hard_bounce,
        {{ count_where("suppression_rule = 'soft_error_threshold'") }} as excluded_after_soft_errors,
        {{ count_where("suppression_rule = 'spam_complaint'") }} as excluded_after_spam_complaint,
        {{ count_where('not is_explained') }} as excluded_unexplained,
        count(distinct recipient_address_hash) as suppressed_addresses
    from exclusions
    group by campaign_id, execution_id, channel
),

final as (
    select
        campaign_id,
        execution_id,
        channel,
        {{ window_bounds_columns(window) }},
        excluded_for_suppression,
        excluded_after_hard_bounce,
        excluded_after_soft_errors,
        excluded_after_spam_complaint,
        excluded_unexplained,
        suppressed_addresses
    from counted
)

select * from final
{%- endmacro %}

{#- Per calendar day (in the window's time zone), channel and recipient domain: the addresses newly suppressed that day (a
    suppression began), released (a send ended one), and suppressed at the day's end (or
    at the window's end, inside the last day). Days run from the window's start to its
    end, cut to the hours that hold events, so an unbounded window and one wider than the
    data give the same rows. -#}
{% macro suppression_daily_query(window) -%}
with

states as (
    select * from {{ unqualified_ref('fct_address_suppression_states') }}
    where state != 'active'
),

-- One row per suppression (an address from suppressed_since to its release).
suppressions as (
    select
        recipient_address_hash,
        channel,
        coalesce(recipient_domain, 'unknown') as recipient_domain,
        suppressed_since,
        max(released_at) as released_at
    from states
    group by recipient_address_hash, channel, coalesce(recipient_domain, 'unknown'), suppressed_since
),

-- The days run from the window's start to its end, cut to the hours that hold events
-- (fct_message_hours): a range wider than the data adds no empty days.
data_span as (
    select
        min(activity_hour) as first_hour,
        {{ dbt.dateadd('hour', 1, 'max(activity_hour)') }} as end_hour
    from {{ unqualified_ref('fct_message_hours') }}
),

window_bounds as (
    select
        {% if window.start is none -%}
        first_hour
        {%- else -%}
        greatest(first_hour, {{ window.start }})
        {%- endif %} as first_instant,
        {% if window.end is none -%}
        end_hour
        {%- else -%}
        least(end_hour, {{ window.end }})
        {%- endif %} as end_instant
    from data_span
),

-- The days are calendar days in the window's time zone (window.timezone: var
-- report_timezone, or the function's argument), from the day of the first instant to the
-- day of the last (an end at local midnight ends the day before); each day is cut to the
-- window, and a DST day is 23 or 25 hours long.
local_bounds as (
    select
        first_instant,
        end_instant,
        {{ to_timezone('first_instant', window.timezone) }} as local_first,
        {{ to_timezone('end_instant', window.timezone) }} as local_end
    from window_bounds
),

bounds as (
    select
        first_instant,
        end_instant,
        cast(local_first as date) as first_day,
        cast(
            case
                when {{ dbt.date_trunc('day', 'local_end') }} = local_end then {{ dbt.dateadd('day', -1, 'local_end') }}
                else local_end
            end as date
        ) as last_day
    from local_bounds
),

days as (
    select
        day_series.day,
        greatest({{ from_timezone('cast(day_series.day as ' ~ dbt.type_timestamp() ~ ')', window.timezone) }}, bounds.first_instant) as day_start,
        least(
            {{ from_timezone(dbt.dateadd('day', 1, 'cast(day_series.day as ' ~ dbt.type_timestamp() ~ ')'), window.timezone) }},
            bounds.end_instant
        ) as day_end
    from ({{ day_series("(select first_day from bounds)", "(select last_day from bounds)") }}) as day_series
    cross join bounds
),

groups as (
    select distinct
        channel,
        recipient_domain
    from suppressions
),

counted as (
    select
        days.day,
        groups.channel,
        groups.recipient_domain,
        min(days.day_start) as day_start,
        min(days.day_end) as day_end,
        {{ count_where('suppressions.suppressed_since >= days.day_start and suppressions.suppressed_since < days.day_end') }} as newly_suppressed,
        {{ count_where('suppressions.released_at >= days.day_start and suppressions.released_at < days.day_end') }} as released,
        {{ count_where('suppressions.suppressed_since < days.day_end and (suppressions.released_at is null or suppressions.released_at >= days.day_end)') }} as suppressed_at_day_end
    from days
    cross join groups
    left join suppressions
        on
            groups.channel = suppressions.channel
            and groups.recipient_domain = suppressions.recipient_domain
            and suppressions.suppressed_since < days.day_end
            and (suppressions.released_at is null or suppressions.released_at >= days.day_start)
    group by days.day, groups.channel, groups.recipient_domain
),

final as (
    select
        day,
        channel,
        recipient_domain,
        {{ window_bounds_columns(window) }},
        newly_suppressed,
        released,
        suppressed_at_day_end
    from counted
)

select * from final
{%- endmacro %}
