{#- The arguments of the period_*_between table functions, read the same way whatever the
    session: (period_start, period_end, report_timezone := 'UTC').

    * A bound is an instant, never a wall-clock time read in the session's TimeZone:
      - a TIMESTAMP (or text 'YYYY-MM-DD HH:MM:SS') is UTC;
      - a TIMESTAMP WITH TIME ZONE (or text with an offset or a zone,
        '2026-11-02 00:00:00+01', '2026-11-02 00:00:00 Europe/Paris') is converted to UTC
        explicitly;
      - a DATE (or text 'YYYY-MM-DD') is that day's midnight in report_timezone, so
        (date '2026-11-02', date '2026-11-05', report_timezone := 'Europe/Paris') is
        three Paris days (with UTC, the default, a UTC midnight as before);
      - NULL is unbounded on that side, as an unset var is for the static marts.
    * report_timezone: the zone whose days the report groups by.
    * Refused, with a message naming the argument (checked_period_argument): a bound of
      another type or text that is no timestamp, an end before the start, a NULL zone; a
      zone DuckDB does not know raises DuckDB's own error, which names it. -#}

{#- The table functions' arguments, as the table_function materialization declares them
    (and period_table_functions lists them). -#}
{% macro period_function_arguments() -%}
    {{ return(adapter.dispatch('period_function_arguments')()) }}
{%- endmacro %}

{% macro default__period_function_arguments() -%}
    {{ return(['period_start', 'period_end', "report_timezone := 'UTC'"]) }}
{%- endmacro %}

{#- PostgreSQL: positional, both bounds of one type (text, date, timestamp or timestamptz:
    one overload each). -#}
{% macro postgres__period_function_arguments() -%}
    {{ return(['period_start text | date | timestamp | timestamptz', 'period_end (the same type)', "report_timezone text default 'UTC'"]) }}
{%- endmacro %}

{#- A bound argument as a UTC TIMESTAMP (null when null or unreadable; see above). Kept
    small: it is repeated wherever the report uses a bound. -#}
{% macro period_argument_utc(argument, timezone_sql) -%}
    {{ return(adapter.dispatch('period_argument_utc')(argument, timezone_sql)) }}
{%- endmacro %}

{% macro duckdb__period_argument_utc(argument, timezone_sql) -%}
    {%- set text = 'trim(cast(' ~ argument ~ ' as varchar))' -%}
    {#- Text of a timestamp without a zone gets ' UTC' appended; one that carries an offset
        or a zone (so does a TIMESTAMP WITH TIME ZONE cast to text) fails that and is read
        with its own. -#}
    (case
        when typeof({{ argument }}) = 'DATE' or length({{ text }}) = 10
            then cast(timezone('UTC', timezone({{ timezone_sql }}, cast(try_cast({{ text }} as date) as timestamp))) as timestamp)
        else cast(timezone('UTC', coalesce(try_cast({{ text }} || ' UTC' as timestamptz), try_cast({{ text }} as timestamptz))) as timestamp)
    end)
{%- endmacro %}

{% macro default__period_argument_utc(argument, timezone_sql) -%}
    cast({{ argument }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The window of a table function over its arguments: bounds rounded down to the hour as
    for the static marts; a null bound is unbounded (-infinity / infinity, so the same
    conditions hold), shown as null in period_start/period_end.

    The bounds raise the rules the arguments break where the report evaluates them, in two
    places, because the expressions are repeated wherever the report uses a bound and
    DuckDB plans every copy (docs/decisions.md, "Time zones and query-time arguments"):
    the filters carry only the rules that can make a report empty (ordered_period_argument:
    an end before the start, a NULL zone), the period_start/period_end columns every rule
    (checked_period_argument). For constant valid arguments both fold to constants the
    scans prune on. -#}
{% macro period_function_window() -%}
    {%- set window = period_report_window(none, none) -%}
    {%- set bounds = {} -%}
    {%- set checked = {} -%}
    {%- for argument in ['period_start', 'period_end'] -%}
        {%- do bounds.update({argument: dbt.date_trunc('hour', ordered_period_argument(argument))}) -%}
        {%- do checked.update({argument: dbt.date_trunc('hour', checked_period_argument(argument))}) -%}
    {%- endfor -%}
    {%- do window.update({
        'start': 'coalesce(' ~ bounds.period_start ~ ", cast('-infinity' as " ~ dbt.type_timestamp() ~ '))',
        'end': 'coalesce(' ~ bounds.period_end ~ ", cast('infinity' as " ~ dbt.type_timestamp() ~ '))',
        'start_shown': checked.period_start,
        'end_shown': checked.period_end,
        'timezone': period_function_argument('report_timezone'),
    }) -%}
    {{ return(window) }}
{%- endmacro %}

{#- One bound argument as a UTC timestamp, or an error naming the rule it breaks. -#}
{% macro checked_period_argument(argument) -%}
    {{ return(adapter.dispatch('checked_period_argument')(argument)) }}
{%- endmacro %}

{% macro default__checked_period_argument(argument) -%}
    {{ period_argument_utc(argument, 'report_timezone') }}
{%- endmacro %}

{% macro duckdb__checked_period_argument(argument) -%}
    {%- set accepted = "('DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'VARCHAR', 'NULL', '\"NULL\"')" -%}
    {%- set hint = "; pass a TIMESTAMP (UTC), a TIMESTAMP WITH TIME ZONE, a DATE (a day in report_timezone), text ''YYYY-MM-DD'' (a day in report_timezone) or ''YYYY-MM-DD HH:MM:SS[+offset]'' (UTC unless an offset or zone follows), or NULL (unbounded)" -%}
    {%- set quoted = "'''' || cast(" ~ argument ~ " as varchar) || ''''" -%}
    (case
        {%- for other in ['period_start', 'period_end'] %}
        when typeof({{ other }}) not in {{ accepted }}
            then {{ period_argument_error("'" ~ other ~ " has type ' || typeof(" ~ other ~ ") || '" ~ hint ~ "'") }}
        {%- endfor %}
        when {{ argument }} is not null and {{ period_argument_utc(argument, "'UTC'") }} is null
            then {{ period_argument_error("'" ~ argument ~ " ' || " ~ quoted ~ " || ' is not a timestamp" ~ hint ~ "'") }}
        {#- timezone() raises DuckDB's own error for a zone it does not know, naming it. #}
        when timezone(cast(report_timezone as varchar), timestamp '2000-01-01 00:00:00') is null
            then {{ period_argument_error(null_zone_message()) }}
        else {{ ordered_period_argument(argument) }}
    end)
{%- endmacro %}

{#- A bound as a UTC timestamp, or the error of an end before the start (or of a NULL
    zone, which the other bounds would not notice with timestamp bounds). The report's
    filters use it: the error is raised where a scan reads a row, and while planning when
    the arguments are constants (DuckDB folds it before it drops scans a filter proves
    empty). What stays silent: reversed bounds passed as parameters with another filter
    that matches no row anyway. -#}
{% macro ordered_period_argument(argument) -%}
    {{ return(adapter.dispatch('ordered_period_argument')(argument)) }}
{%- endmacro %}

{% macro default__ordered_period_argument(argument) -%}
    {{ period_argument_utc(argument, 'report_timezone') }}
{%- endmacro %}

{% macro duckdb__ordered_period_argument(argument) -%}
    (case
        when report_timezone is null
            then {{ period_argument_error(null_zone_message()) }}
        when {{ period_argument_utc('period_end', 'report_timezone') }} < {{ period_argument_utc('period_start', 'report_timezone') }}
            then {{ period_argument_error("'period_end (' || cast(period_end as varchar) || ') is before period_start (' || cast(period_start as varchar) || ')'") }}
        else {{ period_argument_utc(argument, 'report_timezone') }}
    end)
{%- endmacro %}

{#- An error raised as the bound's value: a cast of the message to a timestamp fails with
    the message in it. Not error(), which is volatile: a volatile expression in every
    filter would cost planning time, and is not folded while planning. -#}
{% macro period_argument_error(message_sql) -%}
    cast('period function: ' || {{ message_sql }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro null_zone_message() -%}
    'report_timezone is NULL; pass an IANA name such as ''UTC'' or ''Europe/Paris'' (select name from pg_timezone_names())'
{%- endmacro %}

{#- An argument of a table function as the body refers to it: by name in a DuckDB table
    macro; by position in a PostgreSQL SQL function ($1, $2, $3), whose result columns
    period_start and period_end would otherwise clash with the arguments' names. -#}
{% macro period_function_argument(name) -%}
    {{ return(adapter.dispatch('period_function_argument')(name)) }}
{%- endmacro %}

{% macro default__period_function_argument(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro postgres__period_function_argument(name) -%}
    {{ return({'period_start': '$1', 'period_end': '$2', 'report_timezone': '$3'}[name]) }}
{%- endmacro %}

{#- PostgreSQL: the body's arguments are text (typed arguments reach it through the
    overloads the table_function materialization creates, as text of the same meaning):
    'YYYY-MM-DD' is that day's midnight in report_timezone; a timestamp without an offset
    or a zone is UTC; one with an offset or a zone is read with it; NULL is unbounded. Text
    that is no timestamp raises PostgreSQL's own error, which quotes it. -#}
{% macro postgres__period_argument_utc(argument, timezone_sql) -%}
    {%- set text = 'trim(' ~ period_function_argument(argument) ~ ')' -%}
    (case
        when length({{ text }}) = 10
            then ((cast({{ text }} as date) + time '00:00') at time zone {{ timezone_sql }}) at time zone 'UTC'
        when {{ text }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$'
            then cast({{ text }} as timestamp)
        else (cast({{ text }} as timestamptz) at time zone 'UTC')
    end)
{%- endmacro %}

{% macro postgres__checked_period_argument(argument) -%}
    {{ postgres__ordered_period_argument(argument) }}
{%- endmacro %}

{% macro postgres__ordered_period_argument(argument) -%}
    {%- set zone = period_function_argument('report_timezone') -%}
    (case
        when {{ zone }} is null
            then {{ period_argument_error(null_zone_message()) }}
        when {{ period_argument_utc('period_end', zone) }} < {{ period_argument_utc('period_start', zone) }}
            then {{ period_argument_error("'period_end (' || " ~ period_function_argument('period_end') ~ " || ') is before period_start (' || " ~ period_function_argument('period_start') ~ " || ')'") }}
        else {{ period_argument_utc(argument, zone) }}
    end)
{%- endmacro %}
