-- One row per UTC hour from 2020 to 2035: MetricFlow's time spine (the semantic layer
-- aggregates the hourly facts by hour, day, week...). A fixed span: 131k small rows.
with

hours as (
    {{ hour_series("cast('2020-01-01' as " ~ dbt.type_timestamp() ~ ")", "cast('2035-12-31 23:00:00' as " ~ dbt.type_timestamp() ~ ")") }}
)

select hour_start from hours
