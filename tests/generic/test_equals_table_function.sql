{#- A static period mart equals its table function called with the same bounds (the vars
    period_start and period_end; a range wider than any data when they are unset) and
    time zone (var report_timezone): every
    row and column but the bounds columns, both ways. Proves the function answers what a
    rebuild with those vars would. DuckDB only (table macros): disabled on other engines,
    where the functions are not built. Tagged full_check: it recomputes the report over
    all history, so it runs in make test, CI and the scheduled full check, not in the
    default (production) build (selectors.yml). -#}
{% test equals_table_function(model, function) %}
{{ config(enabled=(target.type == 'duckdb'), tags=['full_check']) }}
{%- set window = period_vars_window() -%}
{%- set arguments = [
    window.start if window.start is not none else "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")",
    window.end if window.end is not none else "cast('3000-01-01' as " ~ dbt.type_timestamp() ~ ")",
    "report_timezone := '" ~ report_timezone() ~ "'",
] -%}
with

static_rows as (
    select * exclude (period_start, period_end) from {{ model }}
),

function_rows as (
    select * exclude (period_start, period_end) from {{ unqualified_ref(function) }}({{ arguments | join(', ') }})
),

only_static as (
    select 'only_in_static_mart' as side, * from (select * from static_rows except all select * from function_rows) as differences
),

only_function as (
    select 'only_in_table_function' as side, * from (select * from function_rows except all select * from static_rows) as differences
)

select * from only_static
union all
select * from only_function
{% endtest %}
