"""Benchmarks: the DuckDB build, refresh and queries against the floor (local), and Spark (spark)."""
