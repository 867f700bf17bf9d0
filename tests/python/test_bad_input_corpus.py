"""The bad-input corpus (tests/corpus/manifest.json): every kind gets its expected outcome.

A file whose columns do not fit is refused whole, with the file and the problem named;
a bad value is a rejected row with its reason; nothing valid is lost and nothing invalid
is counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, TALLY, dbt, run

CORPUS = REPO / "tests" / "corpus"
CASES = json.loads((CORPUS / "manifest.json").read_text())


def test_corpus_covers_at_least_twenty_kinds() -> None:
    assert len({case["kind"] for case in CASES}) >= 20


@pytest.mark.parametrize("case", [c for c in CASES if c["outcome"] == "refused"], ids=lambda c: c["file"])
def test_files_that_do_not_fit_are_refused_whole(tmp_path: Path, case: dict) -> None:
    warehouse = tmp_path / "w.duckdb"
    path = CORPUS / case["file"]
    result = run([*TALLY, "load", "--table", case["table"], str(path)], warehouse, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert str(path) in result.stderr and case["message"] in result.stderr, result.stderr
    # Refused before the warehouse is opened: not even an empty file is left behind.
    assert not warehouse.exists()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("corpus") / "w.duckdb"
    for case in CASES:
        if case["outcome"] != "refused":
            run([*TALLY, "load", "--quiet", "--table", case["table"], str(CORPUS / case["file"])], warehouse)
    # Models and their data tests: bad input must not break an invariant either.
    dbt(
        ["build", "--exclude", "tag:golden", "resource_type:unit_test", "--vars", '{report_as_of: "2026-11-02 00:00:00"}'],
        warehouse,
    )
    return warehouse


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c["outcome"] == "rejected"], ids=lambda c: c["file"])
def test_bad_rows_are_rejected_with_their_reason(built: Path, case: dict) -> None:
    con = duckdb.connect(str(built), read_only=True)
    reasons = [
        row[0]
        for row in con.execute(
            "select rejection_reasons from staging.stg_raw__rejected_rows where table_name = ? and event_id = ?",
            [case["table"], case["event_id"]],
        ).fetchall()
    ]
    assert any(case["reason"] in r.split(",") for r in reasons), (case, reasons)


@pytest.mark.slow
def test_nothing_valid_is_lost_and_nothing_invalid_is_counted(built: Path) -> None:
    con = duckdb.connect(str(built), read_only=True)
    expected = {
        (case["table"], event_id) for case in CASES if case["outcome"] != "refused" for event_id in case["valid_event_ids"]
    }
    staged = set(
        con.execute(
            "select 'message_feedback_events', event_id from staging.stg_raw__message_feedback_events "
            "union all select 'message_tracking_events', event_id from staging.stg_raw__message_tracking_events"
        ).fetchall()
    )
    assert staged == expected
    # Every counted event is a staged one: the facts add up to the staged events exactly.
    counted = con.execute(
        "select sum(excluded + errors + sent + delivered + bounces + retry_events), sum(opens + clicks) from marts.fct_messages"
    ).fetchone()
    feedback = sum(1 for table, _ in expected if table == "message_feedback_events")
    tracking = sum(1 for table, _ in expected if table == "message_tracking_events")
    assert counted == (feedback, tracking)
    unknown = con.execute("select is_known_campaign from marts.dim_campaigns where campaign_id = 'cmp_nobody_knows'").fetchone()
    assert unknown == (False,)
    reconciliation = con.execute(
        "select count(*) from audit.audit_row_reconciliation where raw_rows != staged_rows + duplicate_rows + rejected_rows"
    ).fetchone()[0]
    assert reconciliation == 0
