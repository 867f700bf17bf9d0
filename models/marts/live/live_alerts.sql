-- One row per open alert: a rate of the live window (bounce, complaint, error,
-- unsubscribe) above its level, per delivery, per channel and per email recipient domain.
-- Two rules, alert_rule (docs/decisions.md, "Alerts"): `threshold`, the rate at or above the var
-- alert_thresholds' warning level (severity critical at or above its critical level), the
-- levels taken from the mailbox providers' and sending services' published limits; and
-- `baseline`, the rate at least alert_baseline_factor times the campaign and channel's own
-- rate over the alert_baseline_days before the window (a delivery; a channel: all its
-- campaigns). A rate is judged only on at least alert_min_volume in its denominator, and
-- a baseline only on as many. Rebuilt by every build and every live refresh: an alert is
-- open while its rate holds in the window, and gone when it no longer does.
{%- set window = live_report_window() %}
{%- set levels = alert_thresholds() %}
{%- set min_volume = alert_min_volume() %}
{%- set factor = alert_baseline_factor() %}
{#- The counts the rates read: their numerators and denominators. #}
{%- set counts = [] %}
{%- for rate in alert_rates() %}
{%- for count in [rate.numerator, rate.denominator] if count not in counts %}
{%- do counts.append(count) %}
{%- endfor %}
{%- endfor %}
{%- set baseline_start =  dbt.dateadd('day', -1 * alert_baseline_days(), dbt.date_trunc('hour', window.start)) %}

with

delivery_statistics as (
    select * from {{ ref('live_delivery_statistics') }}
),

domain_statistics as (
    select * from {{ ref('live_recipient_domains') }}
),

delivery_hours as (
    select * from {{ ref('fct_delivery_hours') }}
    where
        activity_hour >= {{ baseline_start }}
        and activity_hour < {{ dbt.date_trunc('hour', window.start) }}
),

-- The counts each rate reads, per scope: a delivery, a channel, an email domain.
scoped_counts as (
    select
        'delivery' as alert_scope,
        campaign_id,
        execution_id,
        channel,
        cast(null as {{ dbt.type_string() }}) as recipient_domain,
        {{ counts | join(',\n        ') }}
    from delivery_statistics
    union all
    select
        'channel' as alert_scope,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as execution_id,
        channel,
        cast(null as {{ dbt.type_string() }}) as recipient_domain,
        {%- for count in counts %}
        {{ sum_count(count) }} as {{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from delivery_statistics
    group by channel
    union all
    select
        'recipient_domain' as alert_scope,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as execution_id,
        channel,
        recipient_domain,
        {%- for count in counts %}
        {{ sum_count(count) }} as {{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from domain_statistics
    where recipient_domain != 'unknown'
    group by channel, recipient_domain
),

-- The same counts before the window: per campaign and channel (a delivery's baseline),
-- and per channel. The hour facts count each message in its first active hour, with its
-- events over all history: the baseline is the rate of the messages that began in those
-- days, a proportion as the window's is.
baseline_counts as (
    select
        campaign_id,
        channel,
        {%- for count in counts %}
        {{ sum_count('first_hour_' ~ count) }} as {{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from delivery_hours
    group by campaign_id, channel
    union all
    select
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        channel,
        {%- for count in counts %}
        {{ sum_count('first_hour_' ~ count) }} as {{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from delivery_hours
    group by channel
),

rates as (
    {%- for rate in alert_rates() %}
    select
        scoped.alert_scope,
        scoped.campaign_id,
        scoped.execution_id,
        scoped.channel,
        scoped.recipient_domain,
        '{{ rate.name }}' as metric,
        scoped.{{ rate.numerator }} as numerator,
        scoped.{{ rate.denominator }} as denominator,
        baseline.{{ rate.numerator }} as baseline_numerator,
        baseline.{{ rate.denominator }} as baseline_denominator,
        cast({{ levels[rate.name].warning }} as {{ type_double() }}) as warning_level,
        cast({{ levels[rate.name].critical }} as {{ type_double() }}) as critical_level
    from scoped_counts as scoped
    left join baseline_counts as baseline
        on
            scoped.alert_scope != 'recipient_domain'
            and scoped.channel = baseline.channel
            and coalesce(scoped.campaign_id, '') = coalesce(baseline.campaign_id, '')
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rates_judged as (
    select
        *,
        {{ safe_divide('numerator', 'denominator') }} as rate,
        case when baseline_denominator >= {{ min_volume }} then {{ safe_divide('baseline_numerator', 'baseline_denominator') }} end
            as baseline_rate
    from rates
    where denominator >= {{ min_volume }}
),

alerts as (
    select
        *,
        'threshold' as alert_rule,
        case when rate >= critical_level then 'critical' else 'warning' end as severity,
        case when rate >= critical_level then critical_level else warning_level end as threshold
    from rates_judged
    where rate >= warning_level
    union all
    select
        *,
        'baseline' as alert_rule,
        'warning' as severity,
        baseline_rate * {{ factor }} as threshold
    from rates_judged
    where baseline_rate > 0 and rate >= baseline_rate * {{ factor }}
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'alert_scope', "'|'", "coalesce(campaign_id, '')", "'|'", "coalesce(execution_id, '')", "'|'",
            'channel', "'|'", "coalesce(recipient_domain, '')", "'|'", 'metric', "'|'", 'alert_rule',
        ])) }} as alert_id,
        alert_scope,
        campaign_id,
        execution_id,
        channel,
        recipient_domain,
        metric,
        alert_rule,
        severity,
        cast(numerator as {{ dbt.type_bigint() }}) as numerator,
        cast(denominator as {{ dbt.type_bigint() }}) as denominator,
        rate,
        threshold,
        baseline_rate,
        cast(baseline_denominator as {{ dbt.type_bigint() }}) as baseline_denominator,
        {{ window_bounds_columns(window) }}
    from alerts
)

select * from final
