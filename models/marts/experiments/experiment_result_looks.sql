-- Every treatment x success metric of every content experiment at every look up to
-- var experiment_results_as_of (default report_as_of): the cumulative counts, the
-- confidence sequence at the look and its running intersection. The series behind
-- experiment_results, and the dashboard's chart of the bounds over time.
{{ experiment_looks_query(_timestamp_literal(experiment_results_as_of_value())) }}
