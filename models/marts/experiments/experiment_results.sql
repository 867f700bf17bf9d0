-- One row per content experiment x treatment x success metric at var
-- experiment_results_as_of (default report_as_of): profiles, successes, conversion rate,
-- lift, the anytime-valid bounds of the difference with the baseline, the confidence, and
-- the experiment's verdict. The same query as experiment_results_as_of(as_of).
{{ experiment_results_query(_timestamp_literal(experiment_results_as_of_value())) }}
