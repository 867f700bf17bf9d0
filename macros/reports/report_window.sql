{#- The report windows, one vocabulary for every report: the vars that set them, and a
    window as a small dict that one query per report section reads.

    Vars are validated here before they reach any SQL: a malformed value stops the run with
    a message naming the var and the expected format (and a quote or a semicolon can never
    change a query, since only a re-formatted parsed value is emitted). Windows are
    rendered as timestamp literals at compile time. -#}

{% macro _parse_timestamp_var(name, allow_date=false) -%}
    {%- set raw = var(name, none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- set formats = ['%Y-%m-%d %H:%M:%S'] + (['%Y-%m-%d'] if allow_date else []) -%}
    {%- for fmt in formats -%}
        {%- if modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?', text) -%}
            {%- set parsed = _try_strptime(text, fmt) -%}
            {%- if parsed is not none -%}
                {{ return(parsed) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set expected = "UTC 'YYYY-MM-DD HH:MM:SS'" ~ (" or 'YYYY-MM-DD'" if allow_date else "") -%}
    {{ exceptions.raise_compiler_error("Invalid var " ~ name ~ ": expected " ~ expected ~ ", got " ~ (text | tojson)) }}
{%- endmacro %}

{% macro _try_strptime(text, fmt) -%}
    {#- strptime raises on impossible dates (2026-13-45); Jinja cannot catch, so pre-check the shape. -#}
    {%- if fmt == '%Y-%m-%d' and text | length != 10 -%}{{ return(none) }}{%- endif -%}
    {%- if fmt == '%Y-%m-%d %H:%M:%S' and text | length != 19 -%}{{ return(none) }}{%- endif -%}
    {%- set parts = modules.re.findall('[0-9]+', text) | map('int') | list -%}
    {%- set month_days = [31, 29 if (parts[0] % 4 == 0 and (parts[0] % 100 != 0 or parts[0] % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- if parts[1] < 1 or parts[1] > 12 or parts[2] < 1 or parts[2] > month_days[parts[1] - 1] -%}{{ return(none) }}{%- endif -%}
    {%- if parts | length == 6 and (parts[3] > 23 or parts[4] > 59 or parts[5] > 59) -%}{{ return(none) }}{%- endif -%}
    {{ return(modules.datetime.datetime.strptime(text, fmt)) }}
{%- endmacro %}

{% macro _timestamp_literal(value) -%}
    cast('{{ value.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- report_as_of as a Python datetime (UTC); defaults to the start of the dbt invocation,
    truncated to the second. run_started_at, not the clock: dbt compiles each model just
    before running it, so a clock read here would give the models of one run windows
    seconds apart (sum tests across live marts then fail, and a mart's window_end would
    not be the window its inputs used). One instant per invocation, and no var to change,
    so a scheduled refresh never forces a re-parse. -#}
{% macro report_as_of_value() -%}
    {%- set parsed = _parse_timestamp_var('report_as_of') -%}
    {%- if parsed is none -%}
        {%- set parsed = run_started_at.replace(tzinfo=none, microsecond=0) -%}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}

{#- True when neither period var is set: the period window is all history. -#}
{% macro period_is_unbounded() -%}
    {{ return(_parse_timestamp_var('period_start', allow_date=true) is none
        and _parse_timestamp_var('period_end', allow_date=true) is none) }}
{%- endmacro %}

{#- The vars' exact period bounds as a condition: period_start <= column < period_end (an
    unset bound is unbounded). Validates the vars; the period marts read the window of
    period_vars_window() below, whose bounds are these rounded down to the hour. -#}
{% macro in_period_window(column) -%}
    {%- set start = period_var_utc('period_start') -%}
    {%- set end = period_var_utc('period_end') -%}
    {%- if start is not none and end is not none and start >= end -%}
        {{ exceptions.raise_compiler_error("Invalid vars: period_start (" ~ start ~ ") must be before period_end (" ~ end ~ ")") }}
    {%- endif -%}
    (
        {%- if start is not none %}{{ column }} >= {{ _timestamp_literal(start) }}{% else %}true{% endif %}
        and {% if end is not none %}{{ column }} < {{ _timestamp_literal(end) }}{% else %}true{% endif -%}
    )
{%- endmacro %}

{#- report_timezone, checked against the IANA database that dbt ships (pytz). -#}
{% macro report_timezone() -%}
    {%- set tz = var('report_timezone', 'UTC') | string | trim -%}
    {%- if tz not in modules.pytz.all_timezones -%}
        {{ exceptions.raise_compiler_error("Invalid var report_timezone: expected an IANA time zone name such as 'UTC' or 'Europe/Paris', got " ~ (tz | tojson)) }}
    {%- endif -%}
    {{ return(tz) }}
{%- endmacro %}

{#- Run once at the start of every invocation so a bad var fails before anything is built. -#}
{% macro validate_report_vars() -%}
    {%- do report_as_of_value() -%}
    {%- do in_period_window('event_ts') -%}
    {%- do report_timezone() -%}
    {%- do suppression_soft_error_threshold() -%}
    {%- do suppression_soft_error_spacing_hours() -%}
    {%- do suppression_soft_release_days() -%}
    {%- do alert_thresholds() -%}
    {%- do alert_min_volume() -%}
    {%- do alert_baseline_days() -%}
    {%- do alert_baseline_factor() -%}
    {%- do machine_seconds_after_send() -%}
    {%- do machine_user_agent_patterns() -%}
    {%- do experiment_results_as_of_value() -%}
    {%- do experiment_outcome_window_hours() -%}
    {%- do experiment_confidence_level() -%}
    {%- do experiment_rho_squared() -%}
    {%- do experiment_baseline_treatments() -%}
    select 1
{%- endmacro %}

{#- A report window: which events a report counts, and the window's inputs, so that one
    query per report section (macros/reports/*_query.sql) serves the live marts, the
    static period marts and the period_*_between table functions alike.

    * live: (report_as_of - 24 h, report_as_of - 2 min], exact to the microsecond; its
      whole UTC hours are read from the hourly facts (as the period window reads them) and
      only its two edge hours from the events, so a refresh reads a day of hour rows and
      two hours of events (int_messages_in_live_window rolls the message hours up).
    * period: [start, end) on whole UTC hours; its inputs are the hourly facts
      (fct_message_hours, fct_failure_hours, fct_link_click_hours) rolled up over the
      window's hours, so a unique count is distinct messages over the whole range, never a
      sum of hourly uniques. A bound inside an hour is rounded down to the start of its hour;
      the rows show the bounds actually used (period_start, period_end). start_sql and
      end_sql are SQL expressions (a literal, or a table function's parameter); none means
      unbounded. -#}

{#- The live window: report_as_of - 24 hours < event_ts <= report_as_of - 2 minutes.
    start/end are SQL literals; start_at/end_at/as_of the same instants as datetimes. -#}
{% macro live_report_window() -%}
    {%- set as_of = report_as_of_value() -%}
    {%- set start_at = as_of - modules.datetime.timedelta(hours=24) -%}
    {%- set end_at = as_of - modules.datetime.timedelta(minutes=2) -%}
    {%- set hour = modules.datetime.timedelta(hours=1) -%}
    {{ return({
        'kind': 'live',
        'start': _timestamp_literal(start_at),
        'end': _timestamp_literal(end_at),
        'start_at': start_at,
        'end_at': end_at,
        'as_of': as_of,
        'whole_hours_start': _timestamp_literal(start_at.replace(minute=0, second=0, microsecond=0) + hour),
        'whole_hours_end': _timestamp_literal(end_at.replace(minute=0, second=0, microsecond=0)),
        'bounds_columns': ['window_start', 'window_end'],
    }) }}
{%- endmacro %}

{#- add_up_delivery_hours=false: roll up every message of the window even without a
    messages_model (the straightforward computation a test compares the functions with). -#}
{% macro period_report_window(start_sql, end_sql, messages_model=none, add_up_delivery_hours=true) -%}
    {{ return({
        'kind': 'period',
        'start': none if start_sql is none else dbt.date_trunc('hour', 'cast(' ~ start_sql ~ ' as ' ~ dbt.type_timestamp() ~ ')'),
        'end': none if end_sql is none else dbt.date_trunc('hour', 'cast(' ~ end_sql ~ ' as ' ~ dbt.type_timestamp() ~ ')'),
        'bounds_columns': ['period_start', 'period_end'],
        'messages_model': messages_model,
        'add_up_delivery_hours': add_up_delivery_hours and messages_model is none,
        'timezone': "'UTC'",
    }) }}
{%- endmacro %}

{#- The static period marts' window: the validated vars period_start and period_end; their
    message rows are materialised once (int_messages_in_period_window) for all of them. -#}
{% macro period_vars_window(messages_model='int_messages_in_period_window') -%}
    {%- set start = period_var_utc('period_start') -%}
    {%- set end = period_var_utc('period_end') -%}
    {%- set window = period_report_window(
        none if start is none else _timestamp_literal(start),
        none if end is none else _timestamp_literal(end),
        messages_model=messages_model,
    ) -%}
    {%- do window.update({'timezone': "'" ~ report_timezone() ~ "'"}) -%}
    {{ return(window) }}
{%- endmacro %}

{#- A period var as a UTC datetime, read as the table functions read their bounds: a
    'YYYY-MM-DD HH:MM:SS' value is UTC, a 'YYYY-MM-DD' value that day's midnight in var
    report_timezone (UTC by default). -#}
{% macro period_var_utc(name) -%}
    {%- set parsed = _parse_timestamp_var(name, allow_date=true) -%}
    {%- if parsed is not none and (var(name) | string | trim | length) == 10 and report_timezone() != 'UTC' -%}
        {%- set local = modules.pytz.timezone(report_timezone()).localize(parsed) -%}
        {%- set parsed = local.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}

{#- One input of a window, as a relation or a subquery, which callers alias
    (PostgreSQL 15 requires it); only the inputs a query asks for
    are referenced, so a mart's lineage shows what it reads:
    * messages: one row per message with events in the window (message_activity_columns);
    * failures: exclusion, error and bounce events (int_failure_events' columns, with
      `events`, the number of events the row stands for);
    * link_clicks: clicks and human clicks per message, URL and user agent
      (fct_link_click_hours' columns);
    * message_hours: the message hours of the window (period only);
    * delivery_hours: the delivery hours of the window (fct_delivery_hours; period only);
    * cut_messages, several_targeting_profiles, targeting_rows, profile_spans: what a report adding up the delivery
      hours needs besides them, the messages and profiles a bound of the window cuts
      (period only, see window_adds_up_delivery_hours and delivery_report_query). -#}
{% macro window_input(window, name) -%}
    {%- if window.kind == 'live' and name == 'messages' -%}
        {{ return(ref('int_messages_in_live_window')) }}
    {%- elif window.kind == 'live' and name in ('failures', 'link_clicks') -%}
        {#- The whole hours from the hour fact, the two edge hours from the events, the same
            columns (failures: fct_failure_hours' counted columns; clicks: per message, URL
            and user agent). -#}
        {%- set spec = {
            'failures': {
                'fact': 'fct_failure_hours',
                'columns': ['campaign_id', 'execution_id', 'channel', 'reason_kind', 'failure_type', 'reason',
                            'recipient_domain', 'reason_label', 'reason_category'],
                'counts': {'events': '1'},
                'events': ref('int_failure_events'),
                'event_filter': 'true',
            },
            'link_clicks': {
                'fact': 'fct_link_click_hours',
                'columns': ['campaign_id', 'execution_id', 'channel', 'message_id', 'url', 'user_agent'],
                'counts': {'clicks': '1', 'human_clicks': 'case when machine_rule is null then 1 else 0 end'},
                'events': none,
                'event_filter': "event_source = 'tracking' and event_type = 'click'",
            },
        }[name] -%}
        {%- if name == 'link_clicks' -%}
            {#- Each edge click with its class (fct_open_click_events), for human_clicks. -#}
            {%- do spec.update({'events': events_with_machine_rule(ref('int_events_unioned'), live_edge_hours_contain(window, 'event_ts'))}) -%}
        {%- endif -%}
        {%- set event_columns = spec.columns | map('replace', 'url', "coalesce(url, 'unknown') as url") | list -%}
        {%- set event_counts = [] -%}
        {%- for count, expression in spec.counts.items() %}{% do event_counts.append(expression ~ ' as ' ~ count) %}{% endfor -%}
        {{ return(
            '(select ' ~ (spec.columns + spec.counts.keys() | list) | join(', ') ~ ' from ' ~ ref(spec.fact)
            ~ ' where ' ~ live_whole_hours_contain(window, 'activity_hour')
            ~ ' union all select ' ~ (event_columns + event_counts) | join(', ') ~ ' from ' ~ spec.events ~ ' as edge_events'
            ~ ' where ' ~ spec.event_filter ~ ' and ' ~ live_edge_hours_contain(window, 'event_ts') ~ ')'
        ) }}
    {%- elif window.kind != 'live' -%}
        {%- set hours = window_contains(window, 'activity_hour') -%}
        {%- if name == 'messages' and window.messages_model is not none -%}
            {{ return(ref(window.messages_model)) }}
        {%- elif name == 'messages' -%}
            {{ return(
                '(select campaign_id, execution_id, channel, message_id, ' ~ message_activity_rollup()
                ~ ' from ' ~ unqualified_ref('fct_message_hours') ~ ' where ' ~ hours
                ~ ' group by campaign_id, execution_id, channel, message_id)'
            ) }}
        {%- elif name == 'cut_messages' -%}
            {#- Per message and part: part_sign 1, the window's rows of a message a bound
                cuts (active before the start, or from the end on), rolled up; part_sign -1, all the rows of a message whose
                first hour is in the window and which is still active from the end on,
                rolled up as over all history (fct_delivery_hours counted it in its first
                hour as such: taken back). Disjoint scans, each with a conjunction of
                conditions the engine prunes row groups with (an OR is read whole). -#}
            {%- set source = unqualified_ref('fct_message_hours') -%}
            {%- set scans = [] -%}
            {%- if window.start is not none -%}
                {%- do scans.append('select cut_hours.*, 1 as part_sign from ' ~ source ~ ' as cut_hours where '
                    ~ hours ~ ' and ' ~ window_before_start(window, 'message_first_hour')) -%}
            {%- endif -%}
            {%- if window.end is not none -%}
                {%- do scans.append('select ending_hours.*, parts.part_sign from (select * from ' ~ source ~ ' where '
                    ~ window_not_before_start(window, 'activity_hour') ~ ' and ' ~ window_contains(window, 'message_first_hour')
                    ~ ' and ' ~ window_from_end(window, 'message_last_hour') ~ ') as ending_hours'
                    ~ ' cross join (select 1 as part_sign union all select -1 as part_sign) as parts'
                    ~ ' where parts.part_sign = -1 or ending_hours.activity_hour < ' ~ window.end) -%}
            {%- endif -%}
            {%- if scans | length == 0 -%}
                {#- Unbounded: no bound cuts a message. -#}
                {%- do scans.append('select all_hours.*, 1 as part_sign from ' ~ source ~ ' as all_hours where false') -%}
            {%- endif -%}
            {{ return(
                '(select campaign_id, execution_id, channel, message_id, part_sign, '
                ~ message_condition_rollup() ~ ' from (' ~ scans | join(' union all ') ~ ') as cut_rows'
                ~ ' group by campaign_id, execution_id, channel, message_id, part_sign)'
            ) }}
        {%- elif name == 'several_targeting_profiles' -%}
            {#- The window's targeted profile of each message with several targeting hours
                (rare): the least of its targeting rows in the window, as the full rollup. -#}
            {{ return(
                '(select campaign_id, execution_id, channel, min(targeted_profile_id) as targeted_profile_id from '
                ~ unqualified_ref('fct_message_hours') ~ ' where ' ~ hours
                ~ ' and message_targeted_hours > 1 and targeted_profile_id is not null'
                ~ ' group by campaign_id, execution_id, channel, message_id)'
            ) }}
        {%- elif name == 'targeting_rows' -%}
            {#- The window's targeting rows of the messages with one targeting hour (a
                profile's occurrences, see fct_delivery_profile_spans). -#}
            {{ return(
                '(select campaign_id, execution_id, channel, targeted_profile_id from ' ~ unqualified_ref('fct_message_hours')
                ~ ' where ' ~ hours ~ ' and targeted_profile_id is not null and message_targeted_hours = 1)'
            ) }}
        {%- elif name == 'profile_spans' -%}
            {#- The profiles targeted in several hours whose span meets the window, and
                whether the span alone tells they are targeted in it (is_counted): a span
                starting or ending in the window has that targeting row in it; only a span
                holding the whole window (first before it, last after it) may have none. -#}
            {{ return(
                '(select campaign_id, execution_id, channel, targeted_profile_id, not ('
                ~ window_before_start(window, 'first_hour') ~ ' and ' ~ window_from_end(window, 'last_hour') ~ ') as is_counted'
                ~ ' from ' ~ unqualified_ref('fct_delivery_profile_spans')
                ~ ' where first_hour is not null and not ' ~ window_from_end(window, 'first_hour')
                ~ ' and not ' ~ window_before_start(window, 'last_hour') ~ ')'
            ) }}
        {%- elif name in ('failures', 'link_clicks', 'message_hours', 'delivery_hours') -%}
            {%- set model = {
                'failures': 'fct_failure_hours',
                'link_clicks': 'fct_link_click_hours',
                'message_hours': 'fct_message_hours',
                'delivery_hours': 'fct_delivery_hours',
            }[name] -%}
            {{ return('(select * from ' ~ unqualified_ref(model) ~ ' where ' ~ hours ~ ')') }}
        {%- endif -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("window " ~ window.kind ~ " has no input " ~ name) }}
{%- endmacro %}

{#- The live window cut at whole UTC hours: its whole hours (read from the hour facts) and
    its two edge hours, the partial hours around the window's start and end (read from the
    events, exact to the microsecond: start excluded, end included). Together they are the
    window, each instant once. -#}
{% macro live_whole_hours_contain(window, hour_column) -%}
    ({{ hour_column }} >= {{ window.whole_hours_start }} and {{ hour_column }} < {{ window.whole_hours_end }})
{%- endmacro %}

{#- Every hour that intersects the live window, the edge hours included (hour rows). -#}
{% macro live_hours_contain(window, hour_column) -%}
    ({{ hour_column }} >= {{ dbt.date_trunc('hour', window.start) }} and {{ hour_column }} <= {{ window.whole_hours_end }})
{%- endmacro %}

{% macro live_edge_hours_contain(window, column) -%}
    (({{ column }} > {{ window.start }} and {{ column }} < {{ window.whole_hours_start }})
    or ({{ column }} >= {{ window.whole_hours_end }} and {{ column }} <= {{ window.end }}))
{%- endmacro %}

{#- The live window's message hours: one row per message x UTC hour with events in the
    window (keys, activity_hour, message_activity_columns), the whole hours as
    fct_message_hours has them and the edge hours aggregated from the window's events the
    same way (message_event_aggregates). Rolled up per message they are the window's
    messages (int_messages_in_live_window); per hour, the live time series. -#}
{% macro live_window_message_hours(window) -%}
    {%- set keys = ['campaign_id', 'execution_id', 'channel', 'message_id', 'activity_hour'] -%}
    select
        {{ (keys + message_activity_columns()) | join(',\n        ') }}
    from {{ ref('fct_message_hours') }}
    where {{ live_whole_hours_contain(window, 'activity_hour') }}

    union all

    select
        {{ (keys + message_activity_columns()) | join(',\n        ') }}
    from (
        select
            campaign_id,
            execution_id,
            channel,
            message_id,
            {{ dbt.date_trunc('hour', 'event_ts') }} as activity_hour,
            {{ message_event_aggregates() }}
        from {{ events_with_machine_rule(ref('int_events_unioned'), live_edge_hours_contain(window, 'event_ts')) }} as edge_events
        where {{ live_edge_hours_contain(window, 'event_ts') }}
        group by campaign_id, execution_id, channel, message_id, {{ dbt.date_trunc('hour', 'event_ts') }}
    ) as edge_message_hours
{%- endmacro %}

{#- True when a report of this window adds up delivery hours (fct_delivery_hours) and rolls
    up only the messages a bound of the window cuts, instead of rolling up every message of
    the window: the period_*_between functions (a static period mart reads its messages
    materialised once per build, int_messages_in_period_window; a live window has no hour
    facts for its edges). -#}
{% macro window_adds_up_delivery_hours(window) -%}
    {{ return(window.kind == 'period' and window.add_up_delivery_hours) }}
{%- endmacro %}

{#- A period window's bounds one at a time (false when that bound is unbounded). -#}
{% macro window_before_start(window, column) -%}
    {%- if window.start is none %}false{% else %}({{ column }} < {{ window.start }}){% endif -%}
{%- endmacro %}

{% macro window_not_before_start(window, column) -%}
    {%- if window.start is none %}true{% else %}({{ column }} >= {{ window.start }}){% endif -%}
{%- endmacro %}

{% macro window_from_end(window, column) -%}
    {%- if window.end is none %}false{% else %}({{ column }} >= {{ window.end }}){% endif -%}
{%- endmacro %}

{#- A boolean SQL expression: the timestamp `column` lies in the window. -#}
{% macro window_contains(window, column) -%}
    {%- if window.kind == 'live' -%}
        ({{ column }} > {{ window.start }} and {{ column }} <= {{ window.end }})
    {%- else -%}
        ({% if window.start is not none %}{{ column }} >= {{ window.start }}{% else %}true{% endif %}
        and {% if window.end is not none %}{{ column }} < {{ window.end }}{% else %}true{% endif %})
    {%- endif -%}
{%- endmacro %}

{#- The window's bounds as the report's first columns (window_start/window_end for live,
    period_start/period_end for period; null when unbounded). -#}
{% macro window_bounds_columns(window) -%}
    {%- for bound in [window.get('start_shown', window.start), window.get('end_shown', window.end)] -%}
    {% if bound is none %}cast(null as {{ dbt.type_timestamp() }}){% else %}{{ bound }}{% endif %} as {{ window.bounds_columns[loop.index0] }}
    {%- if not loop.last %},
    {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- The key columns of a report grain: one row per delivery, or per campaign x channel
    (a channel tab of the campaign report). -#}
{% macro report_grain_keys(grain) -%}
    {%- if grain == 'delivery' -%}
        {{ return(['campaign_id', 'execution_id', 'channel']) }}
    {%- elif grain == 'channel' -%}
        {{ return(['campaign_id', 'channel']) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown report grain " ~ grain ~ ": expected delivery or channel") }}
    {%- endif -%}
{%- endmacro %}

{#- A relation the table functions read, named without its database: a table function
    copied into the serving file must find it there, whatever that file is called. -#}
{% macro unqualified_ref(name) -%}
    {{ return(ref(name).include(database=false)) }}
{%- endmacro %}
