-- One row per delivery executed in the period window of the vars (execution_started_at in
-- [period_start, period_end)) with all its events up to now: the send cohort, as the
-- platform's delivery reports read. The same query as period_delivery_cohort_between.
{{ delivery_cohort_query(period_vars_window()) }}
