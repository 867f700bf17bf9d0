#!/usr/bin/env python3
"""Live refresh: load new event files, rebuild what the live marts need, publish for BI.

Meant for a scheduler every two minutes. Each step prints what it did and how long it
took. Why the steps are what they are:
* One refresh at a time: a lock file makes a second, overlapping run exit at once (code 3)
  instead of queueing behind DuckDB's one-writer lock.
* Loading goes through scripts/load_events.py (atomic, fingerprinted), then dbt (in a
  child process) runs the models upstream of the live marts, incrementally (only the
  messages and deliveries the new events touch are re-derived), and the live marts' own
  tests. Tests over all history (uniqueness of every event, raw-row reconciliation) and the
  period marts belong to the full `dbt build`, run less often: they scale with history.
* BI never opens the working warehouse. The marts are copied into a new serving file
  (DuckDB v1.0 storage format, so BI drivers embedding DuckDB 1.x open it; marts only: no
  raw data, no PII) that atomically replaces
  the previous one with os.replace. A reader holding the old file keeps a consistent old
  snapshot; the next connection sees the new one. Readers never block the refresh and the
  refresh never blocks readers.
"""

from __future__ import annotations

import argparse
import json
import re
import fcntl
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_events  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "warehouse.duckdb"
SERVING_STORAGE_VERSION = "v1.0.0"
PUBLISHED_SCHEMAS = ("marts",)
# Message grain is a table per message of history: copying it every two minutes would make
# the refresh grow with history. Analysts get it from a snapshot (--include-message-facts).
MESSAGE_FACTS = "fct_messages"
DBT_SELECTION = [
    # The lookup seeds the live models read are reloaded too (a few rows, ~0.1 s each), so a
    # first refresh on a new warehouse works and a changed lookup applies at once.
    "--select", "+tag:live,resource_type:model", "+tag:live,resource_type:seed", "tag:live_tests",
    "--indirect-selection", "empty",
    "--exclude", "tag:golden", "tag:cross_report", "resource_type:unit_test",
]


class Timer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.started = time.perf_counter()

    def step(self, name: str, started: float, detail: str = "") -> None:
        seconds = time.perf_counter() - started
        self.steps.append((name, seconds))
        print(f"  {name:<10s} {seconds:6.2f} s  {detail}", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.started


def report_as_of_arg(text: str) -> str:
    """--report-as-of is checked here, before it reaches dbt's --vars: only a real UTC
    timestamp in one fixed shape passes, so a quote or a brace can never add a var."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", text):
        raise argparse.ArgumentTypeError(f"expected UTC 'YYYY-MM-DD HH:MM:SS', got {text!r}")
    try:
        datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a real date and time: {text!r} ({error})") from None
    return text


def table_for(path: Path) -> str:
    """The raw table a file belongs to, from its name (message_feedback_events-0001.parquet...)."""
    for table in sorted(load_events.CONTRACT, key=len, reverse=True):
        if path.name.startswith(table):
            return table
    raise SystemExit(f"cannot tell the raw table of {path}: its name must start with one of {', '.join(load_events.CONTRACT)}")


def group_files(files: list[Path]) -> Iterator[tuple[str, list[Path]]]:
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(table_for(path), []).append(path)
    # Campaigns first, so that events never reference a campaign loaded later in the same run.
    for table in sorted(groups, key=lambda t: (t != "campaigns", t)):
        yield table, groups[table]


def run_dbt(args: list[str], warehouse: Path) -> None:
    # A child process: dbt-duckdb keeps its database open for the life of the process,
    # and the publish step must open the file after dbt has let go of it.
    env = dict(os.environ, WAREHOUSE_PATH=str(warehouse), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    env.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run([str(dbt), *args], cwd=REPO_ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed (exit {result.returncode}); nothing was published")


def publish(warehouse: Path, serving: Path, include_message_facts: bool = False) -> int:
    """Copies the published schemas into a fresh serving file and swaps it in atomically."""
    staging_file = serving.with_name(serving.name + ".next")
    for leftover in (staging_file, staging_file.with_name(staging_file.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect()
    tables = 0
    try:
        con.execute(f"attach '{warehouse}' as working (read_only)")
        con.execute(f"attach '{staging_file}' as serving (storage_version '{SERVING_STORAGE_VERSION}')")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema serving.{schema}")
            names = con.execute(
                "select table_name from information_schema.tables where table_catalog = 'working' "
                "and table_schema = ? and table_type = 'BASE TABLE' order by 1",
                [schema],
            ).fetchall()
            for (name,) in names:
                if name == MESSAGE_FACTS and not include_message_facts:
                    continue
                con.execute(f'create table serving.{schema}."{name}" as select * from working.{schema}."{name}"')
                tables += 1
        con.execute("detach serving")
    finally:
        con.close()
    with staging_file.open("rb") as handle:
        os.fsync(handle.fileno())
    # Read-only on disk too: a BI tool that forgets the read-only flag gets an error
    # instead of taking a write lock (for non-root users; root ignores mode bits).
    staging_file.chmod(0o444)
    os.replace(staging_file, serving)
    return tables


def refresh(
    warehouse: Path, serving: Path, files: list[Path], report_as_of: str | None, publish_only: bool,
    include_message_facts: bool = False,
) -> int:
    timer = Timer()
    lock_path = warehouse.with_name(warehouse.name + ".refresh.lock")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another refresh holds {lock_path}; skipping this run", file=sys.stderr)
            return 3
        print(f"refresh of {warehouse} -> {serving}")
        if not publish_only:
            started = time.perf_counter()
            for table, paths in group_files(files):
                code = load_events.load(warehouse, table, paths, None, quiet=True)
                if code:
                    return code
            timer.step("load", started, f"{len(files)} file(s)")
            started = time.perf_counter()
            args = ["--no-write-json", "build", "--quiet", *DBT_SELECTION]  # no manifest rewrite: ~0.3 s
            if report_as_of:
                args += ["--vars", json.dumps({"report_as_of": report_as_of})]
            run_dbt(args, warehouse)
            timer.step("dbt build", started, "live marts and upstream, live tests")
        started = time.perf_counter()
        tables = publish(warehouse, serving, include_message_facts)
        timer.step("publish", started, f"{tables} tables -> {serving.name}")
    print(f"  {'total':<10s} {timer.total():6.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="new event files; the raw table is read from each name")
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("WAREHOUSE_PATH", DEFAULT_WAREHOUSE)),
        help="working DuckDB file (default: $WAREHOUSE_PATH, else warehouse/warehouse.duckdb)",
    )
    parser.add_argument("--serving", type=Path, help="published file for BI (default: serving.duckdb beside the warehouse)")
    parser.add_argument("--report-as-of", type=report_as_of_arg, help="UTC 'YYYY-MM-DD HH:MM:SS' (default: now)")
    parser.add_argument("--publish-only", action="store_true", help="skip loading and dbt; just publish the current marts")
    parser.add_argument(
        "--include-message-facts", action="store_true", help=f"also publish {MESSAGE_FACTS} (an analyst snapshot; grows with history)"
    )
    args = parser.parse_args(argv)
    serving = args.serving or args.warehouse.with_name("serving.duckdb")
    try:
        return refresh(args.warehouse.resolve(), serving.resolve(), args.files, args.report_as_of, args.publish_only, args.include_message_facts)
    except load_events.RefusedFile as refused:
        print(f"refused, nothing loaded: {refused}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
