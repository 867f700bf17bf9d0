"""What dbt may and may not do: never write raw data; refuse malformed or hostile vars."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import REPO, TALLY, dbt, load_folder, run


def raw_fingerprint(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [
            con.execute(f"select '{table}', count(*), sum(hash(columns(*))) from raw.{table}").fetchone()
            for table in ("message_feedback_events", "message_tracking_events", "offer_propositions", "campaigns", "_load_audit")
        ]
    finally:
        con.close()


@pytest.mark.slow
def test_no_dbt_command_writes_raw_tables(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_folder(REPO / "data" / "sample", warehouse, "csv")
    before = raw_fingerprint(warehouse)
    dbt(["seed", "--full-refresh"], warehouse)
    dbt(["build", "--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test"], warehouse)
    dbt(["run"], warehouse)
    assert raw_fingerprint(warehouse) == before
    # No period var: the period marts cover all history and must equal the history facts,
    # and each must equal its table function called over a range wider than any data.
    result = dbt(
        ["--no-use-colors", "test", "--select", "assert_unbounded_period_equals_history", "test_name:equals_table_function"],
        warehouse,
    )
    assert "PASS assert_unbounded_period_equals_history" in result.stdout, result.stdout[-2000:]
    functions = len(list((REPO / "models" / "marts" / "period" / "functions").glob("*_between.sql")))
    assert functions >= 8 and result.stdout.count("PASS equals_table_function_") == functions, result.stdout[-3000:]
    # The main command's report runs on what was just built (its queries match the marts).
    report = run([*TALLY, "report", "--warehouse", str(warehouse)])
    assert "Live report: campaign statistics" in report.stdout and "Where every raw row went" in report.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ('{report_as_of: "2026-11-14 12:00"}', "Invalid var report_as_of"),
        ('{report_as_of: "2026-02-30 12:00:00"}', "Invalid var report_as_of"),
        ('{report_as_of: "2026-11-14 12:00:00\'; drop table raw.campaigns; --"}', "Invalid var report_as_of"),
        ('{period_start: "yesterday"}', "Invalid var period_start"),
        ('{period_start: "2026-11-10", period_end: "2026-11-01"}', "must be before period_end"),
        ('{report_timezone: "UTC\'); select 1; --"}', "Invalid var report_timezone"),
        ("{analysis_campaign_id: \"c1' or '1'='1\"}", "Invalid var analysis_campaign_id"),
    ],
)
def test_malformed_and_hostile_vars_stop_with_a_clear_error(tmp_path: Path, variables: str, message: str) -> None:
    result = dbt(
        ["compile", "--select", "live_delivery_statistics", "period_engagement_daily", "campaign_funnel", "--vars", variables],
        tmp_path / "w.duckdb",
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


@pytest.mark.parametrize(
    "value",
    [
        '2026-11-04 06:00:00", period_start: "2000-01-01',  # would add a var to --vars
        "2026-11-04 06:00:00'; drop table raw.campaigns; --",
        "2026-11-04 06:00:00 -- comment",
        "2026-02-30 06:00:00",
        "now",
    ],
)
def test_refresh_refuses_a_hostile_report_as_of_before_anything_runs(tmp_path: Path, value: str) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = run([*TALLY, "refresh", "--warehouse", str(warehouse), "--report-as-of", value], check=False)
    assert result.returncode == 2
    assert "--report-as-of" in result.stderr, result.stderr
    assert "YYYY-MM-DD HH:MM:SS" in result.stderr or "not a real date" in result.stderr, result.stderr
    assert not warehouse.exists()
