-- experiment_results equals experiment_results_as_of(as_of) called at its instant, every
-- row and column both ways: the function answers what a build at that instant would.
-- DuckDB only (table macros); tagged full_check (selectors.yml).
{{ config(enabled=(target.type == 'duckdb'), tags=['full_check']) }}
{%- set as_of = _timestamp_literal(experiment_results_as_of_value()) %}
with

static_rows as (
    select * from {{ ref('experiment_results') }}
),

function_rows as (
    select * from {{ unqualified_ref('experiment_results_as_of') }}({{ as_of }})
),

only_static as (
    select 'only_in_mart' as side, * from (select * from static_rows except all select * from function_rows) as differences
),

only_function as (
    select 'only_in_function' as side, * from (select * from function_rows except all select * from static_rows) as differences
)

select * from only_static
union all
select * from only_function
