-- period_delivery_report_between and period_channel_report_between add up the delivery hours
-- (fct_delivery_hours) and roll up only the messages active in several hours; the
-- straightforward computation rolls up every message of the window from its hours
-- (fct_message_hours) and aggregates those rows. Both must give the same rows, every column
-- but the bounds, for ranges that cut messages at their edges: sub-day ranges of whole
-- hours, a range starting a day and a few hours in and ending before the last hour, 30 days
-- from the first hour, and unbounded (the function called with bounds wider than any data);
-- and the edges of the additive parts (fct_delivery_hours' first-hour counts and
-- single-hour profiles, fct_delivery_profile_spans): bounds inside an hour (rounded down),
-- a single hour, a range inside the gap of a message active before and after it, a range
-- inside the span of a profile targeted in several hours, that profile's last hour alone,
-- ranges starting at such a message's or profile's last hour or ending just after its
-- first, and the first, the last and both targeting hours of a message targeted in several.
-- DuckDB only (table macros).
-- depends_on: {{ ref('fct_delivery_profile_spans') }}
{{ config(tags=['cross_report', 'full_check'], enabled=(target.type == 'duckdb')) }}
{#- The bounds as literals read from the data's span at run time (a subquery as a bound
    would be evaluated once per reference). -#}
{%- set span = {'first': '2000-01-01 00:00:00', 'last': '2000-01-01 00:00:00'} %}
{#- Compiled before anything is built (dbt compile on an empty warehouse), the fact does
    not exist yet: keep the placeholder span. -#}
{%- set hours_relation = adapter.get_relation(ref('fct_message_hours').database, ref('fct_message_hours').schema, ref('fct_message_hours').identifier) if execute else none %}
{%- if hours_relation is not none %}
{%- set row = run_query('select min(activity_hour), max(activity_hour) from ' ~ ref('fct_message_hours')).rows[0] %}
{%- if row[0] is not none %}
{%- do span.update({'first': row[0].strftime('%Y-%m-%d %H:%M:%S'), 'last': row[1].strftime('%Y-%m-%d %H:%M:%S')}) %}
{%- endif %}
{%- endif %}
{#- Edge hours read from the data (placeholders before any build): the widest hour gap of a
    message (its hours before and after the gap), the longest-lived message active in
    several hours, the widest span of a profile targeted in several hours, and the
    targeting hours of a message targeted in several (its profile counted as the full
    rollup counts it: tests/python/test_period_edges.py makes one). #}
{%- set edges = {'gap_before': span.first, 'gap_after': span.first, 'profile_first': span.first, 'profile_last': span.first,
                 'message_first': span.first, 'message_last': span.first, 'targeting_first': span.first, 'targeting_last': span.first} %}
{%- if hours_relation is not none and span.first != '2000-01-01 00:00:00' %}
{%- set gap = run_query(
    'select activity_hour, next_hour from (select activity_hour, lead(activity_hour) over (partition by message_key order by activity_hour) as next_hour from '
    ~ ref('fct_message_hours') ~ ') as hours where next_hour > activity_hour + interval 1 hour order by next_hour - activity_hour desc, activity_hour limit 1').rows %}
{%- if gap | length > 0 %}
{%- do edges.update({'gap_before': gap[0][0].strftime('%Y-%m-%d %H:%M:%S'), 'gap_after': gap[0][1].strftime('%Y-%m-%d %H:%M:%S')}) %}
{%- endif %}
{%- set message = run_query(
    'select message_first_hour, message_last_hour from ' ~ ref('fct_message_hours')
    ~ ' where message_last_hour > message_first_hour order by message_last_hour - message_first_hour desc, message_first_hour limit 1').rows %}
{%- if message | length > 0 %}
{%- do edges.update({'message_first': message[0][0].strftime('%Y-%m-%d %H:%M:%S'), 'message_last': message[0][1].strftime('%Y-%m-%d %H:%M:%S')}) %}
{%- endif %}
{%- set targeting = run_query(
    'select min(activity_hour), max(activity_hour) from ' ~ ref('fct_message_hours')
    ~ ' where message_targeted_hours > 1 and targeted_profile_id is not null group by message_key order by 2 - 1 desc, 1 limit 1').rows %}
{%- if targeting | length > 0 %}
{%- do edges.update({'targeting_first': targeting[0][0].strftime('%Y-%m-%d %H:%M:%S'), 'targeting_last': targeting[0][1].strftime('%Y-%m-%d %H:%M:%S')}) %}
{%- endif %}
{%- set spans_relation = adapter.get_relation(ref('fct_delivery_profile_spans').database, ref('fct_delivery_profile_spans').schema, ref('fct_delivery_profile_spans').identifier) %}
{%- if spans_relation is not none %}
{%- set profile = run_query(
    'select first_hour, last_hour from ' ~ ref('fct_delivery_profile_spans')
    ~ ' where last_hour > first_hour order by last_hour - first_hour desc, first_hour limit 1').rows %}
{%- if profile | length > 0 %}
{%- do edges.update({'profile_first': profile[0][0].strftime('%Y-%m-%d %H:%M:%S'), 'profile_last': profile[0][1].strftime('%Y-%m-%d %H:%M:%S')}) %}
{%- endif %}
{%- endif %}
{%- endif %}
{%- set edge = {} %}
{%- for name, value in edges.items() %}
{%- do edge.update({name: "cast('" ~ value ~ "' as " ~ dbt.type_timestamp() ~ ")"}) %}
{%- endfor %}
{%- set first = "cast('" ~ span.first ~ "' as " ~ dbt.type_timestamp() ~ ")" %}
{%- set last = "cast('" ~ span.last ~ "' as " ~ dbt.type_timestamp() ~ ")" %}
{%- set ranges = {
    'five_to_nine_hours': [dbt.dateadd('hour', 5, first), dbt.dateadd('hour', 9, first)],
    'thirty_to_forty_seven_hours': [dbt.dateadd('hour', 30, first), dbt.dateadd('hour', 47, first)],
    'inner_days': [dbt.dateadd('hour', 31, first), dbt.dateadd('hour', -13, last)],
    'thirty_days': [first, dbt.dateadd('day', 30, first)],
    'unbounded': [none, none],
    'bounds_inside_hours': [dbt.dateadd('minute', 30 * 60 + 17, first), dbt.dateadd('minute', -13 * 60 + 42, last)],
    'one_hour': [dbt.dateadd('hour', 30, first), dbt.dateadd('hour', 31, first)],
    'inside_a_message_gap': [dbt.dateadd('hour', 1, edge.gap_before), edge.gap_after],
    'inside_a_profile_span': [dbt.dateadd('hour', 1, edge.profile_first), edge.profile_last],
    'a_profile_last_hour': [edge.profile_last, dbt.dateadd('hour', 1, edge.profile_last)],
    'from_a_profile_last_hour': [edge.profile_last, dbt.dateadd('day', 2, edge.profile_last)],
    'to_a_profile_first_hour': [dbt.dateadd('day', -2, edge.profile_first), dbt.dateadd('hour', 1, edge.profile_first)],
    'from_a_message_last_hour': [edge.message_last, dbt.dateadd('day', 2, edge.message_last)],
    'to_a_message_first_hour': [dbt.dateadd('day', -2, edge.message_first), dbt.dateadd('hour', 1, edge.message_first)],
    'first_of_several_targeting_hours': [edge.targeting_first, dbt.dateadd('hour', 1, edge.targeting_first)],
    'last_of_several_targeting_hours': [edge.targeting_last, dbt.dateadd('hour', 1, edge.targeting_last)],
    'several_targeting_hours': [edge.targeting_first, dbt.dateadd('hour', 1, edge.targeting_last)],
} %}
{%- set functions = {'delivery': 'period_delivery_report_between', 'channel': 'period_channel_report_between'} %}

with

{% for name, bounds in ranges.items() -%}
{%- for grain, function in functions.items() -%}
{#- On a short span a range computed from the data's edges can end before it starts: the
    rollup is then empty, and the function, which refuses reversed bounds, is called with
    the empty range [start, start) instead. -#}
{%- set call_bounds = [
    bounds[0] if bounds[0] is not none else "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")",
    ('greatest(' ~ bounds[0] ~ ', ' ~ bounds[1] ~ ')') if bounds[0] is not none and bounds[1] is not none
        else (bounds[1] if bounds[1] is not none else "cast('3000-01-01' as " ~ dbt.type_timestamp() ~ ")"),
] %}
{{ name }}_{{ grain }}_function as (
    select function_rows.* exclude (period_start, period_end)
    from {{ unqualified_ref(function) }}({{ call_bounds | join(', ') }}) as function_rows
),

{{ name }}_{{ grain }}_rollup as (
    select rollup_rows.* exclude (period_start, period_end)
    from (
        {{ delivery_report_query(period_report_window(bounds[0], bounds[1], add_up_delivery_hours=false), grain) | indent(8) }}
    ) as rollup_rows
),

{{ name }}_{{ grain }}_differences as (
    select
        '{{ name }}' as range_name,
        '{{ grain }}' as grain,
        'only_in_function' as side,
        only_function.campaign_id,
        only_function.channel
    from (
        select * from {{ name }}_{{ grain }}_function
        except all
        select * from {{ name }}_{{ grain }}_rollup
    ) as only_function
    union all
    select
        '{{ name }}' as range_name,
        '{{ grain }}' as grain,
        'only_in_rollup' as side,
        only_rollup.campaign_id,
        only_rollup.channel
    from (
        select * from {{ name }}_{{ grain }}_rollup
        except all
        select * from {{ name }}_{{ grain }}_function
    ) as only_rollup
),

{% endfor -%}
{%- endfor -%}
-- Not vacuous: the whole range has deliveries (unless nothing was ever built).
empty_function as (
    select
        'thirty_days' as range_name,
        'delivery' as grain,
        'function_returned_no_rows' as side,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as channel
    from {{ ref('fct_message_hours') }}
    having count(*) > 0 and (select count(*) from thirty_days_delivery_function) = 0
),

differences as (
    select * from empty_function
    union all
    {%- for name in ranges %}
    {%- set outer_last = loop.last %}
    {%- for grain in functions %}
    select * from {{ name }}_{{ grain }}_differences
    {%- if not (outer_last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
)

select * from differences
