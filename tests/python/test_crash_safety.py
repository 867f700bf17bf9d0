"""Crash safety: SIGKILL the loader mid-file, or a refresh (loader + dbt + publish) at
several points; the next run completes and nothing is half-loaded or counted twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

import compare
from conftest import REPO, TALLY, project_env, run

# Refreshes killed and rerun: dbt builds in subprocesses.
pytestmark = pytest.mark.slow


def kill_after(args: list[str], seconds: float) -> int | None:
    """Starts a command in its own process group and SIGKILLs the whole group after `seconds`
    (dbt runs in a child of the refresh). Returns the exit code if it finished first."""
    process = subprocess.Popen(
        args, cwd=REPO, env=project_env(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None


def count(warehouse: Path, sql: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_killed_loader_loads_nothing_then_exactly_once(tmp_path: Path) -> None:
    big = tmp_path / "message_tracking_events.csv"
    duckdb.connect().execute(
        f"""copy (select 'e' || range as event_id, '2026-11-01 10:00:00' as event_ts, 'c' as campaign_id, 'x' as execution_id,
        'm' || range as message_id, 'p' as profile_id, 'email' as channel, 'open' as interaction,
        repeat('u', 200) as url from range(3000000)) to '{big}' (header)"""
    )
    warehouse = tmp_path / "w.duckdb"
    load = [*TALLY, "load", "--warehouse", str(warehouse), "--table", "message_tracking_events", str(big)]
    run([*TALLY, "load", "--warehouse", str(warehouse), "--table", "campaigns", str(REPO / "data/sample/campaigns.csv")])
    killed = kill_after(load, 1.5)
    assert killed is None, "the load finished before it could be killed: make the file bigger"
    assert count(warehouse, "select count(*) from raw.message_tracking_events") == 0
    assert count(warehouse, "select count(*) from raw._load_audit where table_name = 'message_tracking_events'") == 0
    for _ in range(2):  # the second load of the same file is detected and skipped
        run(load)
    assert count(warehouse, "select count(*) from raw.message_tracking_events") == 3_000_000


def test_refresh_killed_at_any_point_recovers_to_the_uninterrupted_result(tmp_path: Path) -> None:
    data = tmp_path / "events"
    run([*TALLY, "generate", "--events", "20000", "--days", "3", "--slices", "2", "--seed", "9", "--out", str(data)])
    as_of = "2026-11-04 06:00:00"
    first = sorted(map(str, (data / "slice_001").glob("*.parquet")))
    second = sorted(map(str, (data / "slice_002").glob("*.parquet")))

    # The state every run of the second slice starts from: the first slice refreshed and
    # published, then copied. The copies' unchanged serving views keep reading this
    # folder's day files, which nothing refreshes again: none of them can lose its files.
    start_state = tmp_path / "after-first-slice" / "warehouse.duckdb"
    run([*TALLY, "refresh", "--warehouse", str(start_state), "--report-as-of", as_of, *first])
    clean = tmp_path / "clean" / "warehouse.duckdb"
    shutil.copytree(start_state.parent, clean.parent)
    started = time.monotonic()
    run([*TALLY, "refresh", "--warehouse", str(clean), "--report-as-of", as_of, *second])
    duration = time.monotonic() - started

    # SIGKILL the same refresh at spread points of its uninterrupted duration (loading, dbt's
    # incremental models, the live marts, publishing), each on its own copy of the start
    # state, then run it again there. Separate copies, so that no kill point depends on how
    # far an earlier killed run got: each is a fraction of one whole refresh.
    killed = []
    recovered = []
    for fraction in (0.05, 0.3, 0.6, 0.9):
        crashed = tmp_path / f"crashed-{fraction}" / "warehouse.duckdb"
        shutil.copytree(start_state.parent, crashed.parent)
        second_refresh = [*TALLY, "refresh", "--warehouse", str(crashed), "--report-as-of", as_of, *second]
        killed.append(kill_after(second_refresh, duration * fraction) is None)
        run(second_refresh)
        recovered.append(crashed)
    assert sum(killed) >= 3, f"too few refreshes were killed before finishing: {killed}"

    for crashed in recovered:
        con = duckdb.connect()
        compare.attach(con, clean=clean.with_name("serving.duckdb"), crashed=crashed.with_name("serving.duckdb"))
        # publish_status holds when each publish happened, which differs by construction; its
        # window is live_report_status's, compared below.
        tables = compare.relations(con, "clean", schemas=None, exclude={"publish_status"}, base_tables_only=False)
        assert "marts.live_delivery_statistics" in tables
        # Load times (last_loaded_at, message_last_loaded_at, hour_last_loaded_at, ...) differ by
        # construction once a killed load is loaded again: every column that holds one is left out.
        differences = compare.relation_differences(
            con, "clean", "crashed", tables, exclude_columns=lambda column: "loaded_at" in column
        )
        con.close()
        assert differences == {}, f"{crashed.parent.name}: (rows, only clean, only crashed): {differences}"
