"""A refresh leaves out the views and seeds unchanged since the last refresh built them
(tally.refresh.unchanged), and only those: a first refresh on a new warehouse builds
everything, a changed lookup seed applies at once, a changed view model is rebuilt, and
a view dropped or replaced outside the refresh is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from conftest import RAW_TABLES, REPO
from test_live_refresh import copy_project, refresh_in

AS_OF = ["--report-as-of", "2026-11-04 06:00:00"]
VIEW = "model.messaging_warehouse.stg_raw__campaigns"
SEED = "seed.messaging_warehouse.reason_codes"
DOWNSTREAM_VIEW = "model.messaging_warehouse.int_failure_events"


def last_entry(warehouse: Path) -> dict[str, object]:
    lines = warehouse.with_name("warehouse.refresh-log.jsonl").read_text().splitlines()
    return json.loads(lines[-1])


def refresh(project: Path, warehouse: Path, *files: str) -> list[str]:
    """One refresh that must publish; returns the nodes it left out."""
    result = refresh_in(project, warehouse, *AS_OF, *files)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    entry = last_entry(warehouse)
    assert entry["status"] == "published"
    return list(entry.get("dbt_left_out", []))


def query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_unchanged_views_and_seeds_are_left_out_and_changed_ones_rebuilt(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    sample = [str(REPO / "data" / "sample" / f"{table}.csv") for table in RAW_TABLES]

    # A first refresh on a new warehouse builds every view and seed, and publishes.
    assert refresh(project, warehouse, *sample) == []
    assert query(warehouse, "select count(*) from marts.live_delivery_statistics")[0][0] > 0

    # Nothing changed: the views and seeds are left out.
    left_out = refresh(project, warehouse)
    assert {VIEW, SEED, DOWNSTREAM_VIEW} <= set(left_out), left_out

    # A changed lookup seed applies at once; the unchanged ones stay left out.
    seed_file = project / "seeds" / "lookups" / "reason_codes.csv"
    seed_file.write_text(seed_file.read_text().replace("User unknown,", "User unknown (edited),", 1))
    left_out = refresh(project, warehouse)
    assert SEED not in left_out and VIEW in left_out, left_out
    assert query(warehouse, "select reason_label from lookups.reason_codes where reason_code = 'user_unknown'") == [
        ("User unknown (edited)",)
    ]

    # A changed view model is rebuilt: the warehouse holds the new definition.
    model_file = project / "models" / "staging" / "raw" / "stg_raw__campaigns.sql"
    model_file.write_text(model_file.read_text().replace("select * from staged", "select * from staged where 1 = 1"))
    left_out = refresh(project, warehouse)
    assert VIEW not in left_out and SEED in left_out, left_out
    view_sql = query(warehouse, "select sql from duckdb_views() where view_name = 'stg_raw__campaigns'")[0][0]
    assert "(1 = 1)" in view_sql, view_sql

    # A view dropped outside the refresh is rebuilt (its dependents would fail without it).
    con = duckdb.connect(str(warehouse))
    con.execute("drop view intermediate.int_failure_events")
    con.close()
    left_out = refresh(project, warehouse)
    assert DOWNSTREAM_VIEW not in left_out, left_out
    assert query(warehouse, "select count(*) from duckdb_views() where view_name = 'int_failure_events'") == [(1,)]
