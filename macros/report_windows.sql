{#- The report windows of ../shared/raw-event-contract.md, rendered as timestamp literals
    at compile time. Vars are validated here before they reach any SQL: a malformed value
    stops the run with a message naming the var and the expected format (and a quote or a
    semicolon can never change a query, since only a re-formatted parsed value is emitted). -#}

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

{#- Live window: report_as_of - 24 hours < event_ts <= report_as_of - 2 minutes. -#}
{% macro live_window_start() -%}
    {{ _timestamp_literal(report_as_of_value() - modules.datetime.timedelta(hours=24)) }}
{%- endmacro %}

{% macro live_window_end() -%}
    {{ _timestamp_literal(report_as_of_value() - modules.datetime.timedelta(minutes=2)) }}
{%- endmacro %}

{% macro in_live_window(column) -%}
    ({{ column }} > {{ live_window_start() }} and {{ column }} <= {{ live_window_end() }})
{%- endmacro %}

{#- True when neither period var is set: the period window is all history. -#}
{% macro period_is_unbounded() -%}
    {{ return(_parse_timestamp_var('period_start', allow_date=true) is none
        and _parse_timestamp_var('period_end', allow_date=true) is none) }}
{%- endmacro %}

{#- Period window: period_start <= event_ts < period_end; an unset bound is unbounded. -#}
{% macro in_period_window(column) -%}
    {%- set start = _parse_timestamp_var('period_start', allow_date=true) -%}
    {%- set end = _parse_timestamp_var('period_end', allow_date=true) -%}
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
    select 1
{%- endmacro %}
