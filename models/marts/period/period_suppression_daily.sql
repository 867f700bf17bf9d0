-- One row per UTC day x channel x recipient domain of the period window: the addresses
-- newly suppressed, released, and suppressed at the day's end. The same query as
-- period_suppression_daily_between(period_start, period_end).
{{ suppression_daily_query(period_vars_window()) }}
