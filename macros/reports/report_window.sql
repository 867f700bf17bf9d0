{#- A report window: which events a report counts, and the window's inputs, so that one
    query per report section (macros/reports/*_query.sql) serves the live marts, the
    static period marts and the period_*_between table functions alike.

    * live: (report_as_of - 24 h, report_as_of - 2 min], exact to the microsecond; its
      message rows are aggregated from the window's events (int_messages_in_live_window).
    * period: [start, end) on whole UTC hours; its inputs are the hourly facts
      (fct_message_hours, fct_failure_hours, fct_link_click_hours) rolled up over the
      window's hours, so a unique count is distinct messages over the whole range, never a
      sum of hourly uniques. A bound inside an hour is rounded down to the start of its hour;
      the rows show the bounds actually used (period_start, period_end). start_sql and
      end_sql are SQL expressions (a literal, or a table function's parameter); none means
      unbounded. -#}

{% macro live_report_window() -%}
    {{ return({
        'kind': 'live',
        'start': live_window_start(),
        'end': live_window_end(),
        'bounds_columns': ['window_start', 'window_end'],
    }) }}
{%- endmacro %}

{% macro period_report_window(start_sql, end_sql, messages_model=none) -%}
    {{ return({
        'kind': 'period',
        'start': none if start_sql is none else dbt.date_trunc('hour', 'cast(' ~ start_sql ~ ' as ' ~ dbt.type_timestamp() ~ ')'),
        'end': none if end_sql is none else dbt.date_trunc('hour', 'cast(' ~ end_sql ~ ' as ' ~ dbt.type_timestamp() ~ ')'),
        'bounds_columns': ['period_start', 'period_end'],
        'messages_model': messages_model,
    }) }}
{%- endmacro %}

{#- The static period marts' window: the validated vars period_start and period_end; their
    message rows are materialised once (int_messages_in_period_window) for all of them. -#}
{% macro period_vars_window(messages_model='int_messages_in_period_window') -%}
    {%- set start = _parse_timestamp_var('period_start', allow_date=true) -%}
    {%- set end = _parse_timestamp_var('period_end', allow_date=true) -%}
    {{ return(period_report_window(
        none if start is none else _timestamp_literal(start),
        none if end is none else _timestamp_literal(end),
        messages_model=messages_model,
    )) }}
{%- endmacro %}

{#- One input of a window, as a relation or a subquery, which callers alias
    (PostgreSQL 15 requires it); only the inputs a query asks for
    are referenced, so a mart's lineage shows what it reads:
    * messages: one row per message with events in the window (message_activity_columns);
    * failures: exclusion, error and bounce events (int_failure_events' columns, with
      `events`, the number of events the row stands for);
    * link_clicks: clicks per message, URL and user agent (fct_link_click_hours' columns);
    * message_hours: the message hours of the window (period only). -#}
{% macro window_input(window, name) -%}
    {%- if window.kind == 'live' -%}
        {%- if name == 'messages' -%}
            {{ return(ref('int_messages_in_live_window')) }}
        {%- elif name == 'failures' -%}
            {{ return('(select *, 1 as events from ' ~ ref('int_failure_events') ~ ' where ' ~ window_contains(window, 'event_ts') ~ ')') }}
        {%- elif name == 'link_clicks' -%}
            {{ return(
                "(select campaign_id, execution_id, channel, message_id, coalesce(url, 'unknown') as url, user_agent, 1 as clicks from "
                ~ ref('int_events_unioned') ~ " where event_source = 'tracking' and event_type = 'click' and "
                ~ window_contains(window, 'event_ts') ~ ')'
            ) }}
        {%- endif -%}
    {%- else -%}
        {%- set hours = window_contains(window, 'activity_hour') -%}
        {%- if name == 'messages' and window.messages_model is not none -%}
            {{ return(ref(window.messages_model)) }}
        {%- elif name == 'messages' -%}
            {{ return(
                '(select campaign_id, execution_id, channel, message_id, ' ~ message_activity_rollup()
                ~ ' from ' ~ unqualified_ref('fct_message_hours') ~ ' where ' ~ hours
                ~ ' group by campaign_id, execution_id, channel, message_id)'
            ) }}
        {%- elif name in ('failures', 'link_clicks', 'message_hours') -%}
            {%- set model = {'failures': 'fct_failure_hours', 'link_clicks': 'fct_link_click_hours', 'message_hours': 'fct_message_hours'}[name] -%}
            {{ return('(select * from ' ~ unqualified_ref(model) ~ ' where ' ~ hours ~ ')') }}
        {%- endif -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("window " ~ window.kind ~ " has no input " ~ name) }}
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
    {%- for bound in [window.start, window.end] -%}
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
