"""On Spark too, incremental runs equal a full refresh, row by row and column by column.

The same design as tests/python/test_incremental_exactness.py: generated events in
successive slices of arrival time (duplicates, late bounces and opens crossing slices), each
loaded into the lake and followed by an incremental build with report_as_of moving forward,
then a rerun with no new data; then a full refresh from the same lake in a fresh Spark
warehouse. Every table of `marts` and `staging` (partition columns included) must hold the
same rows in both (the facts and what they read). This exercises the Spark delete+insert of
every incremental fact (one MERGE on Delta, the default; partition rewrites with
spark_file_format: parquet) and the append of the base tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SparkEngine, compare_relation, generate_slices, log, table_files

# Two slices (late events and duplicates cross the boundary): each Spark build costs more
# than a minute of fixed cost, and CI has to stay within 30 minutes.
SLICES = 2
AS_OF = ["2026-11-03 00:00:00", "2026-11-04 06:00:00"]
PERIOD = 'period_start: "2026-11-02 00:00:00", period_end: "2026-11-04 00:00:00"'
# The incremental models and everything upstream (the live and period marts are plain
# tables over the facts, compared with DuckDB's by test_engine_equality.py): Spark's fixed
# cost per model is what makes this test take minutes.
MODELS_ONLY = ["--select", "+path:models/marts/core", "--exclude", "resource_type:test", "resource_type:unit_test"]


def delta_operations(table: Path) -> list[str]:
    """The operation of each commit in a Delta table's log, in order."""
    return [
        json.loads(line)["commitInfo"]["operation"]
        for commit in sorted((table / "_delta_log").glob("[0-9]*.json"))
        for line in commit.read_text().splitlines()
        if '"commitInfo"' in line
    ]


# Parquet tables (the var-chosen alternative, partition rewrites) are left out of
# `make test-engines` to keep CI within its 45 minutes; `make test-engines-parquet` runs them.
@pytest.mark.parametrize("file_format", ["delta", pytest.param("parquet", marks=pytest.mark.parquet_tables)])
def test_spark_incremental_builds_equal_a_full_refresh(tmp_path: Path, file_format: str) -> None:
    data = tmp_path / "events"
    generate_slices(data, 10_000, SLICES, 11)
    lake = tmp_path / "lake"
    fact = tmp_path / "incremental" / "spark" / "tables" / "marts.db" / "fct_message_hours"
    incremental = SparkEngine(tmp_path / "incremental", lake)
    for index in range(1, SLICES + 1):
        incremental.load(data / f"slice_{index:03d}", "parquet")
        variables = f'{{report_as_of: "{AS_OF[index - 1]}", {PERIOD}, spark_file_format: {file_format}}}'
        incremental.dbt(["build", *MODELS_ONLY, "--vars", variables])
    tables = tmp_path / "incremental" / "spark" / "tables"
    merged = {table: delta_operations(table) for table in sorted(tables.glob("*.db/*")) if (table / "_delta_log").is_dir()}
    merged = {table: operations for table, operations in merged.items() if "MERGE" in operations}
    # A rerun with no new data changes nothing; on Delta it commits no version of a merged
    # table either (a watermark that lost its microseconds once made it merge the last load again).
    incremental.dbt(["build", *MODELS_ONLY, "--vars", variables])
    if file_format == "delta":
        assert fact in merged, "the incremental runs did not merge into the Delta fact"
        moved = {table.name: delta_operations(table)[len(operations) :] for table, operations in merged.items()}
        moved = {name: operations for name, operations in moved.items() if operations}
        assert not moved, f"a run with nothing new committed versions: {moved}"
    else:
        assert not (fact / "_delta_log").exists()

    full = SparkEngine(tmp_path / "full", lake)
    full.dbt(["build", *MODELS_ONLY, "--full-refresh", "--vars", variables])

    differences = {}
    compared = 0
    for schema in ("marts", "staging"):
        tables = incremental.tables(schema)
        assert tables == full.tables(schema)
        for table in tables:
            found = compare_relation(full.rows(schema, table), incremental.rows(schema, table))
            compared += 1
            if found:
                differences[f"{schema}.{table}"] = found
    log(f"compared {compared} Spark tables, incremental vs full refresh")
    assert "fct_message_hours" in incremental.tables("marts")
    assert not differences, f"incremental differs from full refresh on Spark: {differences}"
    # The data really crossed slices: later copies of earlier events became duplicates.
    columns, rows = incremental.rows("staging", "base_raw__message_feedback_events")
    assert sum(1 for row in rows if row[columns.index("row_status")] == "duplicate") > 0
    # And the facts are partitioned by event date, several partitions each (beside Delta's log).
    partitions = [p for p in fact.iterdir() if p.is_dir() and p.name != "_delta_log"]
    assert len(partitions) >= 3 and all(p.name.startswith("activity_date=") for p in partitions)
    if file_format == "delta":
        assert_upkeep_compacts_and_keeps_every_row(incremental, tmp_path / "incremental" / "spark" / "tables")


# Tables for the upkeep check: a merged fact, and two whose partitions hold several files
# after the runs (appends and small merges), so OPTIMIZE has files to compact.
UPKEEP = [("marts", "fct_message_hours"), ("marts", "fct_link_click_hours"), ("staging", "base_raw__message_tracking_events")]


def assert_upkeep_compacts_and_keeps_every_row(engine: SparkEngine, tables: Path) -> None:
    """`delta_maintenance` (OPTIMIZE, then VACUUM keeping 168 hours) on UPKEEP: each table
    keeps the same rows; one whose partition held several files has fewer, by an OPTIMIZE
    commit; each has its VACUUM committed; and every file of the versions before is still on
    disk (a reader or a time travel within the retention still finds it)."""
    before = {}
    for schema, table in UPKEEP:
        folder = tables / f"{schema}.db" / table
        files = table_files(folder)
        before[table] = (folder, files, engine.rows(schema, table), len(delta_operations(folder)))
    engine.dbt(["run-operation", "delta_maintenance", "--args", "{models: [" + ", ".join(t for _, t in UPKEEP) + "]}"])
    compacted = []
    for schema, table in UPKEEP:
        folder, files, rows, commits = before[table]
        operations = delta_operations(folder)[commits:]
        after = table_files(folder)
        log(f"delta_maintenance {table}: commits {operations}, data files {len(files)} -> {len(after)}")
        assert compare_relation(rows, engine.rows(schema, table)) == [], f"{table} changed rows"
        assert "VACUUM END" in operations, f"{table}: no VACUUM committed: {operations}"
        assert all(path.exists() for path in files), f"{table}: VACUUM deleted a file a version within the retention needs"
        if len({path.parent for path in files}) < len(files):
            assert "OPTIMIZE" in operations and len(after) < len(files), f"{table}: OPTIMIZE compacted nothing"
            compacted.append(table)
    assert compacted, "no table had files to compact: the check proved nothing"
