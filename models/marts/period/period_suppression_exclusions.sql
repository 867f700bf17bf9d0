-- One row per delivery with messages excluded in the period window because their address
-- was suppressed, by the rule that suppressed it. The same query as
-- period_suppression_exclusions_between(period_start, period_end).
{{ suppression_exclusions_query(period_vars_window()) }}
