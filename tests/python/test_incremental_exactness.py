"""Incremental runs equal a full refresh, row by row and column by column (the Snowplow way).

A generated dataset is loaded in successive slices of arrival time (duplicates, late
bounces and opens days late cross the slices), with an incremental `dbt build` after each
one and report_as_of moving forward; then a copy of the same warehouse is rebuilt with
--full-refresh and every mart and fact is compared with EXCEPT ALL in both directions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import compare
from conftest import TALLY, dbt, load_folder, run

# Four incremental dbt builds and a full refresh.
pytestmark = pytest.mark.slow

SLICES = 4
AS_OF = ["2026-11-02 06:00:00", "2026-11-03 06:00:00", "2026-11-04 06:00:00", "2026-11-05 06:00:00"]
PERIOD = 'period_start: "2026-11-02 00:00:00", period_end: "2026-11-05 00:00:00"'


def relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return compare.relations(con, catalog, schemas=("marts", "staging"))


def test_incremental_builds_equal_a_full_refresh(tmp_path: Path) -> None:
    data = tmp_path / "events"
    run(
        [
            *TALLY,
            "generate",
            "--events",
            "20000",
            "--days",
            "3",
            "--slices",
            str(SLICES),
            "--format",
            "parquet",
            "--seed",
            "11",
            "--out",
            str(data),
        ]
    )
    incremental = tmp_path / "incremental.duckdb"
    for index in range(1, SLICES + 1):
        load_folder(data / f"slice_{index:03d}", incremental, "parquet")
        dbt(
            [
                "build",
                "--exclude",
                "resource_type:test",
                "resource_type:unit_test",
                "--vars",
                f'{{report_as_of: "{AS_OF[index - 1]}", {PERIOD}}}',
            ],
            incremental,
        )
    # A rerun with no new data changes nothing (compared below like everything else).
    dbt(
        [
            "build",
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
            "--vars",
            f'{{report_as_of: "{AS_OF[-1]}", {PERIOD}}}',
        ],
        incremental,
    )

    full = tmp_path / "full.duckdb"
    shutil.copyfile(incremental, full)
    # Golden tests hold the bundled sample's numbers, not this dataset's.
    dbt(["build", "--full-refresh", "--exclude", "tag:golden", "--vars", f'{{report_as_of: "{AS_OF[-1]}", {PERIOD}}}'], full)

    con = duckdb.connect()
    compare.attach(con, incremental=incremental, full_refresh=full)
    tables = relations(con, "incremental")
    assert "marts.fct_messages" in tables and "marts.live_delivery_statistics" in tables
    assert tables == relations(con, "full_refresh")
    differences = compare.relation_differences(con, "full_refresh", "incremental", tables)
    assert not differences, f"incremental differs from full refresh (rows, only full, only incremental): {differences}"
    # The data really crossed slices: late and duplicate rows landed after their originals.
    crossed = con.execute(
        "select count(*) from incremental.staging.base_raw__message_feedback_events where row_status = 'duplicate'"
    ).fetchone()[0]
    assert crossed > 0
