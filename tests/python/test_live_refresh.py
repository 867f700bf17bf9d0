"""Scheduled refreshes with no --report-as-of, as the README tells a scheduler to run them.

* One report instant per run: with events every second around both edges of the live
  window, each refresh passes its live tests and publishes, every live relation of the
  publish carries the same window, and the counts are exactly the events of that window.
* A failed refresh is loud (exit 1, the failing node in one line on stderr), keeps the
  previous publish, records the failure in marts.publish_status, never loads a file twice,
  and the next run (also in watch mode) still runs.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import PYTHON, REPO, TALLY, project_env, run

FEEDBACK = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "status"]
TRACKING = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "interaction"]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def dense_events(folder: Path, now: datetime) -> list[datetime]:
    """One sent email and one open per second around both edges of the live windows of
    the next few minutes: any two models of one run using instants a second apart would
    count different events. Returns the sent events' timestamps."""
    seconds = [now - timedelta(hours=24, seconds=60) + timedelta(seconds=s) for s in range(300)]
    seconds += [now - timedelta(minutes=4) + timedelta(seconds=s) for s in range(300)]
    feedback, tracking = [], []
    for index, ts in enumerate(seconds):
        text = ts.strftime("%Y-%m-%d %H:%M:%S")
        message = f"m{index}"
        feedback.append([f"f{index}", text, "c_dense", "x1", message, f"p{index}", "email", "sent"])
        tracking.append([f"t{index}", text, "c_dense", "x1", message, f"p{index}", "email", "open"])
    write_csv(folder / "message_feedback_events.csv", FEEDBACK, feedback)
    write_csv(folder / "message_tracking_events.csv", TRACKING, tracking)
    return seconds


def serving_windows(serving: Path) -> tuple[set[tuple[datetime, datetime]], dict[str, object]]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        live = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.columns where table_schema = 'marts' "
                "and column_name = 'window_end' and table_name like 'live%' order by 1"
            ).fetchall()
        ]
        assert {"live_delivery_statistics", "live_delivery_timeseries", "live_campaign_statistics", "live_report_status"} <= set(
            live
        ), live
        windows: set[tuple[datetime, datetime]] = set()
        for table in live:
            windows |= set(con.execute(f"select distinct window_start, window_end from marts.{table}").fetchall())
        status = con.execute("select * from marts.publish_status").fetchone()
        names = [column[0] for column in con.execute("select * from marts.publish_status").description]
        sent, opens = con.execute(
            "select sum(sent), sum(opens) from marts.live_delivery_statistics where campaign_id = 'c_dense'"
        ).fetchone()
        timeseries_sent = con.execute(
            "select sum(sent) from marts.live_delivery_timeseries where campaign_id = 'c_dense'"
        ).fetchone()[0]
    finally:
        con.close()
    return windows, {**dict(zip(names, status, strict=False)), "sent": sent, "opens": opens, "timeseries_sent": timeseries_sent}


@pytest.mark.slow
def test_scheduled_refreshes_without_report_as_of_use_one_instant_each(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    sent_at = dense_events(events, utc_now())
    warehouse = tmp_path / "warehouse.duckdb"
    serving = tmp_path / "serving.duckdb"
    files = [str(events / "message_feedback_events.csv"), str(events / "message_tracking_events.csv")]
    for attempt in range(4):
        result = run([*TALLY, "refresh", "--warehouse", str(warehouse), *(files if attempt == 0 else [])], check=False)
        assert result.returncode == 0, f"refresh {attempt} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        windows, status = serving_windows(serving)
        assert len(windows) == 1, f"refresh {attempt}: live relations of one publish disagree on the window: {windows}"
        ((window_start, window_end),) = windows
        assert (status["window_start"], status["window_end"]) == (window_start, window_end)
        assert status["report_as_of"] - window_end == timedelta(minutes=2)
        # The counts are exactly the events of the published window: (start, end].
        expected = sum(1 for ts in sent_at if window_start < ts <= window_end)
        assert 0 < expected < len(sent_at)
        assert (status["sent"], status["opens"], status["timeseries_sent"]) == (expected, expected, expected), (
            attempt,
            window_start,
            window_end,
            status,
        )
        assert status["newest_event_at"] == max(ts for ts in sent_at if ts <= window_end)
        assert status["failures_since_publish"] == 0 and status["last_failure"] is None


def copy_project(target: Path) -> Path:
    """A copy of the project to add a failing test to (the repository is never edited)."""
    ignored = shutil.ignore_patterns(".git", ".venv", "warehouse", "target", "target_*", "logs", "__pycache__", "*.duckdb")
    shutil.copytree(REPO, target, ignore=ignored)
    return target


def refresh_in(project: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TALLY, "refresh", "--warehouse", str(warehouse), *args], cwd=project, env=project_env(), capture_output=True, text=True
    )


@pytest.mark.slow
def test_failed_refresh_is_loud_keeps_the_publish_and_never_loads_twice(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    serving = warehouse.with_name("serving.duckdb")
    sample = [
        str(REPO / "data" / "sample" / f"{table}.csv")
        for table in ("campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions")
    ]
    as_of = ["--report-as-of", "2026-11-04 06:00:00"]
    first = refresh_in(project, warehouse, *as_of, *sample)
    assert first.returncode == 0, first.stderr[-3000:]
    before = duckdb.connect(str(serving), read_only=True)
    published_before = before.execute("select sum(sent), count(*) from marts.live_delivery_statistics").fetchone()
    before.close()

    # A live test that fails, as a broken invariant would.
    failing = project / "tests" / "assert_live_refresh_can_fail.sql"
    failing.write_text("{{ config(tags=['live_tests']) }}\nselect 1 as failure from {{ ref('live_delivery_statistics') }}\n")
    late = write_csv(
        tmp_path / "message_feedback_events-late.csv",
        FEEDBACK + ["failure_type", "reason"],
        [["late1", "2026-11-04 05:00:00", "c_late", "x1", "m_late", "p1", "email", "sent", "", ""]],
    )
    failed = refresh_in(project, warehouse, *as_of, str(late))
    assert failed.returncode == 1
    lines = [line for line in failed.stderr.splitlines() if line.startswith("refresh failed at ")]
    assert len(lines) == 1, failed.stderr
    assert "test.messaging_warehouse.assert_live_refresh_can_fail" in lines[0] and "previous publish kept" in lines[0]

    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute("select sum(sent), count(*) from marts.live_delivery_statistics").fetchone() == published_before
        last_failure, failures = con.execute("select last_failure, failures_since_publish from marts.publish_status").fetchone()
    finally:
        con.close()
    assert "assert_live_refresh_can_fail" in last_failure and failures == 1
    log = [json.loads(line) for line in warehouse.with_name("warehouse.refresh-log.jsonl").read_text().splitlines()]
    assert [entry["status"] for entry in log] == ["published", "failed"]

    # Fixed, then the same file again (a scheduler retrying): it is not loaded twice and the
    # late event it carried is counted once.
    failing.unlink()
    retried = refresh_in(project, warehouse, *as_of, str(late))
    assert retried.returncode == 0, retried.stderr[-3000:]
    assert "already loaded" in retried.stdout
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute("select sent from marts.live_delivery_statistics where campaign_id = 'c_late'").fetchall() == [(1,)]
        status = con.execute("select failures_since_publish, last_failure from marts.publish_status").fetchone()
    finally:
        con.close()
    assert status[0] == 0 and "assert_live_refresh_can_fail" in status[1]


@pytest.mark.slow
def test_watch_mode_keeps_running_after_a_failed_refresh(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    run(
        [
            *TALLY,
            "refresh",
            "--warehouse",
            str(warehouse),
            "--report-as-of",
            "2026-11-04 06:00:00",
            *[str(REPO / "data" / "sample" / f"{table}.csv") for table in ("campaigns", "message_feedback_events")],
        ]
    )
    log = warehouse.with_name("warehouse.refresh-log.jsonl")
    # A process holding the working file (as a BI tool wrongly pointed at it would) makes
    # refreshes fail until it lets go.
    holder = subprocess.Popen(
        [
            PYTHON,
            "-c",
            (
                "import sys, time, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
                "print('holding', flush=True); time.sleep(600)"
            ),
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    watcher = subprocess.Popen(
        [*TALLY, "refresh", "--warehouse", str(warehouse), "--watch", str(landing), "--every", "1", "--max-refreshes", "6"],
        cwd=REPO,
        env=project_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and '"failed"' not in log.read_text():
            time.sleep(0.2)
        assert '"failed"' in log.read_text(), "no refresh failed while the file was held"
    finally:
        holder.kill()
        holder.wait()
    stdout, stderr = watcher.communicate(timeout=300)
    assert watcher.returncode == 0, stderr
    statuses = [json.loads(line)["status"] for line in log.read_text().splitlines()]
    assert statuses[0] == "published" and "failed" in statuses and statuses[-1] == "published", statuses
    assert "refresh failed at " in stderr


@pytest.mark.parametrize("args", [["--publish-only"], ["mystery.csv"]])
def test_refresh_refusals_exit_2_without_a_traceback(tmp_path: Path, args: list[str]) -> None:
    warehouse = tmp_path / "new" / "warehouse.duckdb"
    if args == ["mystery.csv"]:
        (tmp_path / "mystery.csv").write_text("a\n1\n")
        args = [str(tmp_path / "mystery.csv")]
    result = run([*TALLY, "refresh", "--warehouse", str(warehouse), *args], check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()
    assert not warehouse.exists()


def test_benchmark_refuses_too_few_events_with_its_own_usage() -> None:
    result = run([PYTHON, "scripts/benchmark.py", "--events", "0"], check=False)
    assert result.returncode == 2
    assert "benchmark.py" in result.stderr and "expected at least 10000 events" in result.stderr
    assert "generate_events.py" not in result.stderr
