"""Serving: readers querying continuously during refreshes see no error and consistent
answers; the published file is read-only for BI, holds marts only, and opens in DuckDB 1.x (1.2 and later)."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import compare
from conftest import PYTHON, REPO, TALLY, project_env, run

# Refreshes (dbt) and concurrent readers.
pytestmark = pytest.mark.slow

READER = r"""
import json, sys, time
import duckdb

serving, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
# Each check must return 0 on any consistent snapshot; two of them join separate marts, so a
# half-published state (one mart new, another old) would show up.
checks = {
    "targeted": "select count(*) from marts.live_delivery_statistics where targeted != excluded + errors + sent",
    "timeseries_vs_totals": '''
        select count(*) from (
            select campaign_id, execution_id, channel, sum(sent) as sent, sum(opens) as opens
            from marts.live_delivery_timeseries group by all
        ) as series
        full outer join marts.live_delivery_statistics as totals using (campaign_id, execution_id, channel)
        where coalesce(series.sent, -1) != coalesce(totals.sent, -1) or coalesce(series.opens, -1) != coalesce(totals.opens, -1)
    ''',
    "live_within_history": '''
        select count(*) from marts.live_delivery_statistics as live
        left join marts.fct_deliveries as history using (campaign_id, execution_id, channel)
        where history.sent is null or live.sent > history.sent or live.delivered > history.delivered
    ''',
}
queries = errors = inconsistent = 0
messages = []
deadline = time.time() + 300
while time.time() < deadline:
    try:
        con = duckdb.connect(serving, read_only=True)
        try:
            for name, sql in checks.items():
                queries += 1
                if con.execute(sql).fetchone()[0] != 0:
                    inconsistent += 1
                    messages.append(name)
        finally:
            con.close()
    except Exception as error:  # every failure is counted, none is hidden
        errors += 1
        messages.append(repr(error)[:300])
    try:
        open(stop_file).close()
        break
    except FileNotFoundError:
        pass
json.dump({"queries": queries, "errors": errors, "inconsistent": inconsistent, "messages": messages[:20]}, open(out, "w"))
"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serving")
    data = root / "events"
    run([*TALLY, "generate", "--events", "20000", "--days", "3", "--slices", "4", "--seed", "3", "--out", str(data)])
    warehouse = root / "warehouse.duckdb"
    run(
        [
            *TALLY,
            "refresh",
            "--warehouse",
            str(warehouse),
            "--report-as-of",
            "2026-11-02 06:00:00",
            *map(str, sorted((data / "slice_001").glob("*.parquet"))),
        ]
    )
    return {"root": root, "data": data, "warehouse": warehouse, "serving": root / "serving.duckdb"}


def test_readers_see_no_error_and_no_half_published_state(published: dict[str, Path]) -> None:
    root = published["root"]
    stop, out = root / "stop", root / "reader.json"
    reader = subprocess.Popen([PYTHON, "-c", READER, str(published["serving"]), str(stop), str(out)])
    try:
        time.sleep(1)
        for index, as_of in [(2, "2026-11-03 06:00:00"), (3, "2026-11-04 06:00:00"), (4, "2026-11-05 06:00:00")]:
            files = sorted((published["data"] / f"slice_{index:03d}").glob("*.parquet"))
            run([*TALLY, "refresh", "--warehouse", str(published["warehouse"]), "--report-as-of", as_of, *map(str, files)])
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())
    assert result["errors"] == 0 and result["inconsistent"] == 0, result
    assert result["queries"] > 30, result


def test_incremental_publish_equals_the_working_marts(published: dict[str, Path]) -> None:
    """After refreshes that each copy the previous publish and sync only what changed (by
    key for the incremental facts), every published relation equals the working one."""
    run([*TALLY, "refresh", "--warehouse", str(published["warehouse"]), "--report-as-of", "2026-11-05 06:00:00"])
    con = duckdb.connect()
    try:
        compare.attach(con, working=published["warehouse"], serving=published["serving"])
        tables = compare.relations(con, "serving", exclude={"publish_status"}, base_tables_only=False)
        assert "marts.fct_message_hours" in tables and "marts.live_delivery_statistics" in tables
        differences = compare.relation_differences(con, "working", "serving", tables)
        assert not differences, differences
    finally:
        con.close()


def test_serving_file_is_marts_only_and_read_only(published: dict[str, Path]) -> None:
    assert published["serving"].stat().st_mode & 0o222 == 0, "the serving file must not be writable on disk"
    con = duckdb.connect(str(published["serving"]), read_only=True)
    try:
        schemas = {row[0] for row in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        assert schemas == {"marts"}
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("delete from marts.fct_deliveries")
    finally:
        con.close()


def test_overlapping_refresh_exits_instead_of_waiting(published: dict[str, Path]) -> None:
    import fcntl

    lock_path = published["warehouse"].with_name(published["warehouse"].name + ".refresh.lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run([*TALLY, "refresh", "--warehouse", str(published["warehouse"]), "--publish-only"], check=False)
    assert result.returncode == 3
    assert "another refresh" in result.stderr


def test_serving_file_opens_in_duckdb_1x(published: dict[str, Path], tmp_path: Path) -> None:
    """BI drivers embed DuckDB 1.x: the published file must open there too."""
    target = tmp_path / "duckdb1"
    subprocess.run(
        [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(target), "duckdb==1.4.1"],
        check=True,
    )
    # Tables, and the period_*_between table functions (their CTEs are what 1.x cannot read
    # when DuckDB 2.0 writes them, so the publish inlines them).
    queries = [
        "select count(*) from marts.fct_deliveries",
        "select count(*), sum(sent), sum(unique_opens), sum(new_quarantines) from marts.period_delivery_report_between("
        "timestamp '2026-11-01', timestamp '2026-11-03 06:00:00')",
        "select count(*), sum(clicks) from marts.period_campaign_top_links_between(timestamp '2026-11-01', timestamp '2026-11-04')",
        "select count(*), sum(opens) from marts.period_engagement_daily_between(timestamp '2026-11-01', timestamp '2026-11-04', "
        "report_timezone := 'Europe/Paris')",
    ]
    probe = (
        "import json, sys, duckdb; assert duckdb.__version__.startswith('1.'), duckdb.__version__; "
        "con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(json.dumps([list(con.execute(q).fetchone()) for q in json.loads(sys.argv[2])], default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(published["serving"]), json.dumps(queries)],
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(published["serving"]), read_only=True)
    try:
        expected = json.loads(json.dumps([list(con.execute(q).fetchone()) for q in queries], default=str))
    finally:
        con.close()
    assert json.loads(result.stdout) == expected
    assert expected[0][0] > 0 and expected[1][0] > 0


def test_every_served_relation_and_column_is_documented(published: dict[str, Path]) -> None:
    """dbt's descriptions (persist_docs) reach what BI tools read: every table, column and
    table function of the serving file, and every mart of the working warehouse, has one."""
    undocumented = []
    for path in (published["serving"], published["warehouse"]):
        con = duckdb.connect(str(path), read_only=True)
        try:
            undocumented += con.execute(
                "select ? as file, table_name, column_name from duckdb_columns() where schema_name = 'marts' "
                "and (comment is null or comment = '') "
                "union all select ?, table_name, null from duckdb_tables() where schema_name = 'marts' "
                "and (comment is null or comment = '') "
                "union all select ?, function_name, null from duckdb_functions() where schema_name = 'marts' "
                "and function_type = 'table_macro' and (comment is null or comment = '')",
                [path.name] * 3,
            ).fetchall()
            assert con.execute("select count(*) from duckdb_columns() where schema_name = 'marts'").fetchone()[0] > 500
        finally:
            con.close()
    assert not undocumented, undocumented[:20]


def test_project_readers_see_each_publish_beside_a_held_connection(published: dict[str, Path], monkeypatch) -> None:
    """The dashboard reads every query through a fresh in-memory DuckDB that attaches the
    serving file: it sees each new publish at once, even in a process where another
    connection to the file is held open (which keeps reading the replaced file, as a BI
    tool's pooled connection would: the README names the settings that avoid that)."""
    monkeypatch.setenv("SERVING_PATH", str(published["serving"]))
    # The dashboard's reader module, imported by path (Streamlit runs dashboard/ as scripts, not a package).
    spec = importlib.util.spec_from_file_location("dashboard_data", REPO / "dashboard" / "data.py")
    assert spec is not None and spec.loader is not None
    data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)

    held = duckdb.connect(str(published["serving"]), read_only=True)
    try:
        held_before = held.execute("select published_at from marts.publish_status").fetchone()[0]
        first = data.publish_status()["published_at"]
        assert first == held_before
        run([*TALLY, "refresh", "--warehouse", str(published["warehouse"]), "--publish-only"])
        second = data.publish_status()["published_at"]
        assert second > first, "the dashboard's reader did not see the new publish"
        assert held.execute("select published_at from marts.publish_status").fetchone()[0] == held_before
    finally:
        held.close()
    # The headline report opens the file anew in its own process each run.
    report = run([*TALLY, "report", "--warehouse", str(published["warehouse"])])
    assert "Live report" in report.stdout and "not built yet" in report.stdout


def test_a_report_whose_reader_left_ends_quietly(published: dict[str, Path]) -> None:
    """`tally report | head`: the reader may leave before the report is written (here at
    once, so every write meets a closed pipe); the report ends without a traceback, with
    the status a shell gives a process ended by SIGPIPE."""
    command = " ".join(shlex.quote(word) for word in [*TALLY, "report", "--warehouse", str(published["warehouse"])])
    piped = subprocess.run(
        f"{command} | true; echo ${{PIPESTATUS[0]}}",
        shell=True,
        cwd=REPO,
        env=project_env(published["warehouse"]),
        capture_output=True,
        text=True,
        executable="/bin/bash",
    )
    assert "Traceback" not in piped.stderr and "BrokenPipeError" not in piped.stderr, piped.stderr
    assert piped.stdout.strip() == "141", piped.stdout
