"""tally: the messaging analytics warehouse's Python side (a dbt project on DuckDB beside it).

One command, `tally` (tally.cli), with a module per job: settings, the raw contract,
loading, the live refresh and publish, the report, event generation, the independent
reference and the benchmarks.
"""

__version__ = "0.1.0"
