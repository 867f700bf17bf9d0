{{ config(materialized='table_function', arguments=['as_of']) }}

-- experiment_results at any instant: select * from marts.experiment_results_as_of(timestamp '2026-11-10 12:00:00')
{{ experiment_results_query('cast(as_of as ' ~ dbt.type_timestamp() ~ ')', unqualified_ref) }}
