"""The same-work floor of `tally bench` (src/tally/bench/same_work_floor.sql): generated from
the models, so it must be current, and its tables must equal the build's row for row on
events with every kind of copy and contract-breaking row the generator makes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import TALLY, dbt, load_folder, run
from tally.bench import same_work

pytestmark = pytest.mark.slow


def test_same_work_floor_script_is_generated_from_the_current_models(tmp_path: Path) -> None:
    """Regenerating the script gives the committed file: a model or macro changed without
    `python -m tally.bench.same_work` fails here."""
    assert same_work.generate(tmp_path) == same_work.SCRIPT.read_text(), (
        "src/tally/bench/same_work_floor.sql is stale: run python -m tally.bench.same_work"
    )


def test_same_work_floor_equals_the_build_row_for_row(tmp_path: Path) -> None:
    generated = tmp_path / "generated"
    run([*TALLY, "generate", "--events", "30000", "--seed", "11", "--out", str(generated)])
    warehouse = tmp_path / "warehouse.duckdb"
    load_folder(generated, warehouse, "parquet")
    selection = [f"+{name}" for name in same_work.OUTPUTS]
    dbt(
        ["build", "--full-refresh", "--select", *selection, "--exclude", "resource_type:test", "resource_type:unit_test"],
        warehouse,
    )
    # The events exercise the deduplication both ways: copies with the same content
    # (duplicates) and with other content (conflicting_duplicate), and rejected rows.
    con = duckdb.connect(str(warehouse), read_only=True)
    statuses = dict(
        con.execute(
            "select coalesce(rejection_reasons, row_status), count(*) from staging.base_raw__message_feedback_events "
            "where row_status = 'duplicate' or rejection_reasons = 'conflicting_duplicate' group by 1"
        ).fetchall()
    )
    con.close()
    assert statuses.get("duplicate", 0) > 0 and statuses.get("conflicting_duplicate", 0) > 0, statuses

    same_work.run(warehouse)
    assert same_work.differences(warehouse) == dict.fromkeys(same_work.COMPARED, 0)
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("select count(*) from same_work.fct_message_hours").fetchone()[0]
    con.close()
    assert rows > 0
    same_work.drop(warehouse)
