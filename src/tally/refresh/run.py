"""Live refresh: load new event files, rebuild what the live marts need, publish for BI.

Once (`tally refresh FILES...`, for a scheduler) or as a service (`tally watch DIR`).
Each step prints what it did and how long it took. Why the steps are what they are:
* One refresh at a time: a lock file makes a second, overlapping run exit at once (code 3)
  instead of queueing behind DuckDB's one-writer lock.
* Loading goes through the loader, tally.load (atomic, fingerprinted: a file is never
  loaded twice), then dbt runs, in this process, the models upstream of the live marts,
  incrementally (only the messages and deliveries the new events touch are re-derived),
  and the live marts' own tests. Tests over all history and the period marts belong to
  the full `dbt build`, run less often: they scale with history.
* Every live model of one run uses one report instant (dbt's run_started_at unless
  --report-as-of is given), published in marts.publish_status with the publish time, the
  newest event counted and the last failed refresh, so readers can show "data as of".
* BI never opens the working warehouse. The marts are copied into a new serving file
  (DuckDB v1.0 storage format, marts only: no raw data, no PII) that atomically replaces
  the previous one with os.replace. A failed refresh publishes nothing new: the previous
  marts stay, and only its status row records the failure.
"""

from __future__ import annotations

import argparse
import copy
import fcntl
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb

from tally import settings
from tally.load import flat as load_events

REPO_ROOT = settings.REPO_ROOT
PUBLISHED_SCHEMAS = ("marts",)
STATUS_TABLE = "publish_status"
# Message grain is a table per message of history: copying it every two minutes would make
# the refresh grow with history. Analysts get it from a snapshot (--include-message-facts).
MESSAGE_FACTS = "fct_messages"
DBT_SELECTION = [
    # The lookup seeds the live models read are reloaded too (a few rows, ~0.1 s each), so a
    # first refresh on a new warehouse works and a changed lookup applies at once.
    # tag:serving: the hourly facts the published period functions read.
    "--select", "+tag:live,resource_type:model", "+tag:live,resource_type:seed", "+tag:serving,resource_type:model",
    "tag:live_tests",
    "--indirect-selection", "empty",
    "--exclude", "tag:golden", "tag:cross_report", "resource_type:unit_test",
]
# The table functions and their catalog are definitions, not data: a refresh creates them
# only when the working warehouse has none yet (a first refresh, before any full build).
FUNCTIONS_SELECTION = ["+tag:serving_functions,resource_type:model"]
LANDING_SUFFIXES = tuple(load_events.FORMATS)
# The live window ends 2 minutes before the report instant: an event is countable then.
COUNTABLE_AFTER_S = 120.0


class Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def step(self, name: str, started: float, detail: str = "") -> None:
        print(f"  {name:<10s} {time.perf_counter() - started:6.2f} s  {detail}", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.started


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
    if not path.exists():
        raise load_events.RefusedFile(f"{path}: the file does not exist", path)
    for table in sorted(load_events.CONTRACT, key=len, reverse=True):
        if path.name.startswith(table):
            return table
    raise load_events.RefusedFile(
        f"{path}: cannot tell its raw table; the file name must start with one of {', '.join(load_events.CONTRACT)}",
        path,
    )


def group_files(files: list[Path]) -> Iterator[tuple[str, list[Path]]]:
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(table_for(path), []).append(path)
    # Campaigns first, so that events never reference a campaign loaded later in the same run.
    for table in sorted(groups, key=lambda t: (t != "campaigns", t)):
        yield table, groups[table]


@dataclass
class DbtFailure:
    node: str
    message: str


class DbtSession:
    """dbt in this process: the project is parsed once and the manifest reused by every
    refresh (a child `dbt` process pays ~2 s of start-up and parsing each time). After each
    invocation the DuckDB file is released, so the loader and the publish can open it."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self.manifest: Any = None

    def _invoke(self, args: list[str]) -> Any:
        from dbt.cli.main import dbtRunner

        os.environ["WAREHOUSE_PATH"] = str(self.warehouse)
        os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        try:
            return dbtRunner(manifest=self.manifest).invoke([*args, "--project-dir", str(REPO_ROOT)])
        finally:
            release_duckdb()

    def build(self, report_as_of: str | None, with_functions: bool) -> tuple[list[DbtFailure], PublishPlan]:
        """Runs the live selection; returns the failed nodes (empty when all passed) and the
        incremental relations' keys, for a publish that syncs those by key."""
        if self.manifest is None:
            parsed = self._invoke(["--quiet", "parse"])
            if not parsed.success:
                return [DbtFailure("dbt parse", first_line(parsed.exception))], PublishPlan()
            self.manifest = parsed.result
        # --no-write-json: no artifact rewrite (~0.3 s); the result object carries the statuses.
        args = ["--quiet", "--no-write-json", "build", *DBT_SELECTION]
        if with_functions:
            args[args.index("--indirect-selection"):args.index("--indirect-selection")] = FUNCTIONS_SELECTION
        if report_as_of:
            args += ["--vars", json.dumps({"report_as_of": report_as_of})]
        result = self._invoke(args)
        if result.exception is not None:
            return [DbtFailure("dbt build", first_line(result.exception))], PublishPlan()
        node_results = result.result.results if result.result is not None else []
        failures = [
            DbtFailure(node_result.node.unique_id, first_line(node_result.message))
            for node_result in node_results
            if str(node_result.status) in ("error", "fail")
        ]
        if not result.success and not failures:
            failures.append(DbtFailure("dbt build", "failed without naming a node"))
        keys = {
            node.alias: node.config.unique_key for node in self.manifest.nodes.values()
            if node.resource_type == "model" and node.config.materialized == "incremental"
            and isinstance(node.config.unique_key, str)
        }
        return failures, PublishPlan(keys=keys)


def has_table_functions(warehouse: Path) -> bool:
    """The working warehouse already holds the period table functions and their catalog."""
    if not warehouse.exists():
        return False
    con = settings.connect_read_only(warehouse)
    try:
        return bool(con.execute(
            "select count(*) from duckdb_functions() where schema_name = 'marts' and function_type = 'table_macro'"
        ).fetchone()[0]) and bool(con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'period_table_functions'"
        ).fetchone()[0])
    finally:
        con.close()


def release_duckdb() -> None:
    """dbt-duckdb keeps its database open for the life of the process: close it."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def first_line(value: object) -> str:
    text = str(value or "").strip()
    return text.splitlines()[0][:500] if text else type(value).__name__


@dataclass
class PublishPlan:
    """The unique key of each incremental relation (from the parsed project): those are
    synced by key into a copy of the previous publish; every other relation is small (live
    and period marts, dimensions) and copied whole. No plan: publish everything afresh."""

    keys: dict[str, str] = field(default_factory=dict)


def table_names(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_type = 'BASE TABLE' order by 1", [catalog, schema]).fetchall()]


def column_lists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Every table's (column, type) list in one catalog query (one query per table cost
    ~0.4 s per publish)."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? "
        "order by table_name, column_index", [catalog, schema]).fetchall():
        columns.setdefault(table, []).append((column, data_type))
    return columns


def sync_by_key(con: duckdb.DuckDBPyConnection, schema: str, table: str, key: str) -> None:
    """Brings the serving copy of an incremental relation up to date: every key with a row
    loaded after the copy's newest is replaced by all its current rows (an incremental run
    re-derives a key's rows together, and a re-derived key always has a newly loaded row)."""
    relation = f'{schema}."{table}"'
    con.execute(f"""
        create or replace temp table changed_keys as
        select distinct {key} from working.{relation}
        where last_loaded_at > (select coalesce(max(last_loaded_at), timestamp '1900-01-01') from serving.{relation})
    """)
    con.execute(f"delete from serving.{relation} where {key} in (select {key} from changed_keys)")
    con.execute(f"insert into serving.{relation} select * from working.{relation} where {key} in (select {key} from changed_keys)")


def copy_marts(warehouse: Path, target: Path, include_message_facts: bool, plan: PublishPlan, incremental: bool) -> str:
    """Fills `target` with the published schemas of the working warehouse: afresh, or, when
    `incremental` (target is a copy of the previous publish), incremental relations synced
    by key and the others (all small) copied whole, so the cost no longer grows with
    history beyond the file copy."""
    con = duckdb.connect()
    copied, synced = [], []
    try:
        con.execute(f"attach '{warehouse}' as working (read_only)")
        storage = "" if incremental else f" (storage_version '{settings.SERVING_STORAGE_VERSION}')"
        con.execute(f"attach '{target}' as serving{storage}")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists serving.{schema}")
            present = set(table_names(con, "serving", schema))
            wanted = [name for name in table_names(con, "working", schema) if include_message_facts or name != MESSAGE_FACTS]
            working_columns, serving_columns = column_lists(con, "working", schema), column_lists(con, "serving", schema)
            # One transaction for the whole file: a statement per column comment, each
            # committed on its own, was most of a publish's time (~2 s).
            con.execute("begin transaction")
            for name in sorted(present - set(wanted) - {STATUS_TABLE}):
                con.execute(f'drop table serving.{schema}."{name}"')
            for name in wanted:
                same_shape = name in present and working_columns.get(name) == serving_columns.get(name)
                if incremental and same_shape and name in plan.keys:
                    sync_by_key(con, schema, name, plan.keys[name])
                    synced.append(name)
                    continue
                con.execute(f'create or replace table serving.{schema}."{name}" as select * from working.{schema}."{name}"')
                copied.append(name)
            copy_comments(con, schema, copied)
            con.execute("commit")
        if not incremental or not con.execute(
            "select count(*) from duckdb_functions() where database_name = 'serving' and function_type = 'table_macro'"
        ).fetchone()[0]:
            copy_table_functions(con)
        con.execute("detach serving")
    finally:
        con.close()
    return f"{len(copied)} copied, {len(synced)} synced by key"


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def copy_comments(con: duckdb.DuckDBPyConnection, schema: str, tables: list[str]) -> None:
    """The descriptions dbt persisted (persist_docs) as table and column comments, for the
    tables just copied: BI tools show them. CREATE TABLE AS does not carry them over."""
    if not tables:
        return
    for table, comment in con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'working' and schema_name = ? "
        "and comment is not null and list_contains(?, table_name)", [schema, tables]).fetchall():
        con.execute(f'comment on table serving.{schema}."{table}" is {sql_text(comment)}')
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'working' and schema_name = ? "
        "and comment is not null and list_contains(?, table_name)", [schema, tables]).fetchall():
        con.execute(f'comment on column serving.{schema}."{table}"."{column}" is {sql_text(comment)}')


def copy_table_functions(con: duckdb.DuckDBPyConnection) -> int:
    """Re-creates the warehouse's table functions (period_*_between) in the serving file,
    from their catalog (marts.period_table_functions: name and arguments with defaults) and
    DuckDB's stored body. Their bodies name relations without a database, so in the
    serving file they read the serving file's own copies."""
    catalog = con.execute(
        "select count(*) from information_schema.tables where table_catalog = 'working' "
        "and table_schema = 'marts' and table_name = 'period_table_functions'"
    ).fetchone()
    if not catalog or not catalog[0]:
        return 0
    functions = con.execute(
        """
        select catalog.function_name, catalog.arguments, functions.macro_definition, catalog.description
        from working.marts.period_table_functions as catalog
        inner join duckdb_functions() as functions
            on functions.function_name = catalog.function_name
            and functions.database_name = 'working' and functions.schema_name = 'marts'
            and functions.function_type = 'table_macro'
        """
    ).fetchall()
    # Created from inside the serving file, where the names in their bodies resolve.
    con.execute("use serving")
    try:
        for name, arguments, body, description in functions:
            con.execute(f'create macro marts."{name}"({arguments}) as table {without_ctes(con, body)}')
            if description:
                con.execute(f'comment on macro table marts."{name}" is {sql_text(description)}')
    finally:
        con.execute("use memory")
    return len(functions)


def without_ctes(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The query with every CTE reference replaced by the CTE's query. DuckDB 1.0-1.4 (the
    BI drivers the serving file is written for) lose the CTEs of a table macro serialized
    by DuckDB 2.0 ("Table with name final does not exist"); views and subqueries they read
    fine. Works on DuckDB's own parse tree (json_serialize_sql), not on the text."""
    tree = json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise ValueError(f"cannot parse a table function body: {tree.get('error_message')}")
    tree["statements"] = [dict(statement, node=_inline_ctes(statement["node"], {})) for statement in tree["statements"]]
    return con.execute("select json_deserialize_sql(?)", [json.dumps(tree)]).fetchone()[0]


def _inline_ctes(node: Any, scope: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline_ctes(item, scope) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("cte_map"), dict) and node["cte_map"].get("map"):
        scope = dict(scope)
        for entry in node["cte_map"]["map"]:  # in order: a CTE may read the ones before it
            scope[entry["key"]] = _inline_ctes(entry["value"]["query_node"], scope)
        node = dict(node, cte_map={"map": []})
    if (node.get("type") == "BASE_TABLE" and node.get("table_name") in scope
            and not node.get("schema_name") and not node.get("catalog_name")):
        return {
            "type": "SUBQUERY", "alias": node.get("alias") or node["table_name"], "sample": node.get("sample"),
            "query_location": node.get("query_location", 0), "query_location_length": node.get("query_location_length", 0),
            "subquery": {"node": copy.deepcopy(scope[node["table_name"]]), "named_param_map": []},
            "column_name_alias": node.get("column_name_alias", []),
        }
    return {key: _inline_ctes(value, scope) for key, value in node.items()}


STATUS_COLUMNS = [
    ("report_as_of", "timestamp"), ("window_start", "timestamp"), ("window_end", "timestamp"),
    ("newest_event_at", "timestamp"), ("newest_loaded_at", "timestamp"), ("messages_in_window", "bigint"),
    ("published_at", "timestamp"), ("refresh_started_at", "timestamp"), ("files_loaded", "bigint"),
    ("last_failed_at", "timestamp"), ("last_failure", "varchar"), ("failures_since_publish", "bigint"),
]
STATUS_COMMENTS = {
    "": "One row: when this file was published and what its live marts count. Show 'data as of report_as_of'; "
        "warn when published_at is old or failures_since_publish > 0.",
    "report_as_of": "The report instant (UTC) every live mart of this publish uses.",
    "window_start": "Live window start (exclusive): report_as_of - 24 hours.",
    "window_end": "Live window end (inclusive): report_as_of - 2 minutes.",
    "newest_event_at": "Latest event_ts counted in the live window.",
    "newest_loaded_at": "When the newest data counted in the live window was loaded.",
    "messages_in_window": "Messages with at least one event in the live window.",
    "published_at": "When this file was published (UTC).",
    "refresh_started_at": "When the refresh that published it started (UTC).",
    "files_loaded": "Files that refresh loaded.",
    "last_failed_at": "When the most recent failed refresh failed (kept after later successes); null if none.",
    "last_failure": "The failing node and first line of its error, of that refresh.",
    "failures_since_publish": "Refreshes that failed since this publish: 0 means the newest refresh succeeded.",
}


# What the live marts of the publish counted, from dbt's live_report_status.
WINDOW_COLUMNS = [name for name, _ in STATUS_COLUMNS[:6]]


def write_status(con: duckdb.DuckDBPyConnection, status: dict[str, Any]) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in STATUS_COLUMNS)
    con.execute(f"create or replace table marts.{STATUS_TABLE} ({columns})")
    placeholders = ", ".join("?" for _ in STATUS_COLUMNS)
    con.execute(f"insert into marts.{STATUS_TABLE} values ({placeholders})", [status.get(name) for name, _ in STATUS_COLUMNS])
    for column, comment in STATUS_COMMENTS.items():
        target = f"table marts.{STATUS_TABLE}" if not column else f"column marts.{STATUS_TABLE}.{column}"
        con.execute(f"comment on {target} is {sql_text(comment)}")


def swap_in(staging_file: Path, serving: Path) -> None:
    with staging_file.open("rb") as handle:
        os.fsync(handle.fileno())
    # Read-only on disk too: a BI tool that forgets the read-only flag gets an error
    # instead of taking a write lock (for non-root users; root ignores mode bits).
    staging_file.chmod(0o444)
    os.replace(staging_file, serving)


def next_file(serving: Path) -> Path:
    staging_file = serving.with_name(serving.name + ".next")
    for leftover in (staging_file, staging_file.with_name(staging_file.name + ".wal")):
        leftover.unlink(missing_ok=True)
    return staging_file


def publish(warehouse: Path, serving: Path, status: dict[str, Any], include_message_facts: bool = False,
            plan: PublishPlan | None = None) -> str:
    """Writes the marts and the status row into the next serving file and swaps it in. With a
    plan (a refresh that knows what its dbt run rebuilt), the next file starts as a copy of
    the current one and only what changed is written; otherwise it is written afresh. The
    last failed refresh stays in the status row after later successes (with
    failures_since_publish back to 0), so a reader can still see what failed last."""
    status.update(previous_failure(serving))
    staging_file = next_file(serving)
    incremental = plan is not None and bool(plan.keys) and bool(read_status(serving))
    if incremental:
        shutil.copyfile(serving, staging_file)
        staging_file.chmod(0o644)
    summary = copy_marts(warehouse, staging_file, include_message_facts, plan or PublishPlan(), incremental)
    con = duckdb.connect(str(staging_file))
    try:
        tables_published = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
        if "live_report_status" in tables_published:
            window = con.execute(f"select {', '.join(WINDOW_COLUMNS)} from marts.live_report_status").fetchone()
            status.update(zip(WINDOW_COLUMNS, window or ()))
        status["published_at"] = utc_now()
        write_status(con, status)
    finally:
        con.close()
    swap_in(staging_file, serving)
    return summary


def read_status(serving: Path) -> dict[str, Any]:
    """The status row of the current publish, or {} when there is none yet."""
    if not serving.exists():
        return {}
    con = settings.connect_read_only(serving)
    try:
        row = con.execute(f"select {', '.join(name for name, _ in STATUS_COLUMNS)} from marts.{STATUS_TABLE}").fetchone()
    except duckdb.Error:  # a file published before the status row existed
        return {}
    finally:
        con.close()
    return dict(zip((name for name, _ in STATUS_COLUMNS), row)) if row else {}


def previous_failure(serving: Path) -> dict[str, Any]:
    status = read_status(serving)
    return {key: status.get(key) for key in ("last_failed_at", "last_failure")}


def publish_failure(serving: Path, failed_at: datetime, failure: str) -> bool:
    """Keeps the previous publish's marts and records the failure in its status row, so a
    reader sees both the last good numbers and that the newest refresh failed."""
    status = read_status(serving)
    if not status:
        return False
    staging_file = next_file(serving)
    shutil.copyfile(serving, staging_file)
    staging_file.chmod(0o644)
    con = duckdb.connect(str(staging_file))
    try:
        status.update(
            last_failed_at=failed_at, last_failure=failure,
            failures_since_publish=(status.get("failures_since_publish") or 0) + 1,
        )
        write_status(con, status)
    finally:
        con.close()
    swap_in(staging_file, serving)
    return True


def append_log(warehouse: Path, record: dict[str, Any]) -> None:
    with settings.refresh_log_path(warehouse).open("a") as log:
        log.write(json.dumps(record, default=str) + "\n")


@dataclass
class Refresher:
    warehouse: Path
    serving: Path
    include_message_facts: bool = False
    dbt: DbtSession = field(init=False)

    def __post_init__(self) -> None:
        self.dbt = DbtSession(self.warehouse)

    def run(self, files: list[Path], report_as_of: str | None, publish_only: bool = False,
            landing: LandingHooks | None = None) -> int:
        """One refresh. Exit code: 0 published, 1 failed (previous publish kept), 2 input
        refused (nothing loaded), 3 another refresh holds the lock. `landing`: the watch
        service's checks around each load (see Settling)."""
        lock_path = self.warehouse.with_name(self.warehouse.name + ".refresh.lock")
        if publish_only and not self.warehouse.exists():
            print(f"no warehouse at {self.warehouse}: build one first (make demo, or dbt build)", file=sys.stderr)
            return 2
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"another refresh holds {lock_path}; skipping this run", file=sys.stderr)
                return 3
            return self._run_locked(files, report_as_of, publish_only, landing or LandingHooks())

    def _run_locked(self, files: list[Path], report_as_of: str | None, publish_only: bool, landing: LandingHooks) -> int:
        timer = Timer()
        started_at = utc_now()
        record: dict[str, Any] = {"started_at": started_at, "files": [str(path.resolve()) for path in files]}
        print(f"refresh of {self.warehouse} -> {self.serving}", flush=True)
        if not publish_only:
            started = time.perf_counter()
            # Every file is checked before any is loaded: one refused file loads nothing.
            checked = [(table, load_events.check_files(table, paths)) for table, paths in group_files(files)]
            for table, prepared in checked:
                load_events.load_prepared(self.warehouse, table, prepared, quiet=True, before_commit=landing.before_commit)
                landing.after_commit([item.path for item in prepared])
            timer.step("load", started, f"{len(files)} file(s)")
            started = time.perf_counter()
            failures, plan = self.dbt.build(report_as_of, with_functions=not has_table_functions(self.warehouse))
            timer.step("dbt build", started, "live marts and upstream, live tests")
            if failures:
                return self._fail(record, failures)
        else:
            plan = None
        started = time.perf_counter()
        status = {"refresh_started_at": started_at, "files_loaded": len(files), "failures_since_publish": 0}
        summary = publish(self.warehouse, self.serving, status, self.include_message_facts, plan)
        timer.step("publish", started, f"{summary} -> {self.serving.name}")
        print(f"  {'total':<10s} {timer.total():6.2f} s", flush=True)
        record.update(status="published", published_at=status["published_at"], report_as_of=status.get("report_as_of"),
                      window_end=status.get("window_end"), seconds=round(timer.total(), 3))
        append_log(self.warehouse, record)
        return 0

    def _fail(self, record: dict[str, Any], failures: list[DbtFailure]) -> int:
        first = failures[0]
        more = f"; {len(failures) - 1} more failed node(s)" if len(failures) > 1 else ""
        failure = f"{first.node}: {first.message}{more}"
        failed_at = utc_now()
        kept = publish_failure(self.serving, failed_at, failure)
        print(f"refresh failed at {failure}; "
              + ("previous publish kept, failure recorded in marts.publish_status" if kept else "nothing published yet"),
              file=sys.stderr, flush=True)
        record.update(status="failed", failed_at=failed_at, failed_node=first.node, reason=failure)
        append_log(self.warehouse, record)
        return 1


@dataclass
class LandingHooks:
    """What the watch service does around each load: `before_commit(paths)` raises
    FileChanged to roll the load back; `after_commit(paths)` takes the files away at once."""

    before_commit: Callable[[list[Path]], None] | None = None
    after_commit: Callable[[list[Path]], None] = lambda paths: None


class FileChanged(Exception):
    """A landed file changed after it was taken: its writer was not done."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: changed while it was being loaded (its writer is not done); "
                         "load rolled back, the file waits for the next pass")
        self.path = path


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a file changed: inode, size, modification time (None: it is gone)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class Settling:
    """A file written in place under its final name (a writer that skips the hidden-name
    protocol) looks complete while its writer is still at it. So a landed file is taken
    only once its signature has stayed the same for `settle` seconds, and its load commits
    only if it is still the same then (`unchanged`, run inside the load's transaction);
    else the load rolls back and the file settles again. Default 10 s: longer than the
    pauses of a writer that flushes as it goes (the reported one paused 6 s), and small
    next to the 2 minutes an event waits before it is countable in the live window."""

    settle: float
    seen: dict[Path, tuple[tuple[int, int, int], float]] = field(default_factory=dict)

    def ready(self, paths: list[Path], now: float) -> list[Path]:
        """The files among `paths` unchanged for the settle period, as of `now` (monotonic s)."""
        current: dict[Path, tuple[tuple[int, int, int], float]] = {}
        for path in paths:
            signature = file_signature(path)
            if signature is None:
                continue
            previous = self.seen.get(path)
            current[path] = (signature, previous[1] if previous and previous[0] == signature else now)
        self.seen = current
        return [path for path, (_, since) in current.items() if now - since >= self.settle]

    def unchanged(self, paths: list[Path]) -> None:
        """Raises FileChanged for the first of `paths` not as it was when found ready."""
        for path in paths:
            taken = self.seen.get(path)
            if taken is None or file_signature(path) != taken[0]:
                self.seen.pop(path, None)
                raise FileChanged(path)


def landed_files(folder: Path) -> list[Path]:
    """Complete files in the landing folder: regular, not hidden, with a known suffix.
    Writers land a file by writing it under a hidden or .tmp name, then renaming it."""
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in LANDING_SUFFIXES
    )


def move_to(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{time.time_ns()}{path.suffix}"
    return path.rename(target)


def watch(refresher: Refresher, folder: Path, every: float, poll: float, max_refreshes: int | None, settle: float = 10.0) -> int:
    """Refreshes whenever complete files land in `folder`, and at least every `every`
    seconds without them (the live window moves with the clock: without new files, the
    events of the last 2 minutes before a quiet period still become countable). A bad
    file is moved to refused/ with its reason and the others still load; a failed
    refresh is logged and the next one runs on schedule."""
    stop = {"requested": False}

    def request_stop(signum: int, _frame: object) -> None:
        stop["requested"] = True
        print(f"signal {signum}: stopping after the current refresh", flush=True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"watching {folder} (refresh on new files, and every {every:g} s)", flush=True)
    refreshes = 0
    settling = Settling(settle)
    last_refresh = float("-inf")
    # Events loaded by a refresh that started at t are at most as recent as t, so they are
    # all countable (2 minutes old) by t + 2 min: a refresh is due then even if nothing
    # lands, which keeps the delay after countable short at the end of a burst.
    due: list[float] = []
    while not stop["requested"] and (max_refreshes is None or refreshes < max_refreshes):
        now = time.monotonic()
        files = settling.ready(landed_files(folder), now)
        if not files and now - last_refresh < every and not any(moment <= now for moment in due):
            time.sleep(poll)
            continue
        last_refresh = now
        due = [moment for moment in due if moment > now]
        refreshes += 1
        code = refresh_landed(refresher, folder, files, settling)
        if files and code in (0, 1):
            due.append(now + COUNTABLE_AFTER_S)
        if code not in (0, 1, 3):
            print(f"refresh exited with code {code}; watching on", file=sys.stderr, flush=True)
    return 0


def take_loaded(folder: Path, settling: Settling, taken: set[Path], paths: list[Path]) -> None:
    """Moves files whose load just committed to loaded/ at once (a writer still holding
    one would otherwise keep writing into landing until the end of the refresh), and
    says so if one changed after all (its newer rows are not loaded)."""
    for path in paths:
        if path in taken or not path.exists():
            continue
        signature = settling.seen.get(path, (None, 0.0))[0]
        moved = move_to(path, folder / "loaded")
        taken.add(path)
        if signature is not None and file_signature(moved) != signature:
            print(f"warning: {moved} changed after its load committed: rows written since are not loaded", file=sys.stderr, flush=True)


def refresh_landed(refresher: Refresher, folder: Path, files: list[Path], settling: Settling | None = None) -> int:
    """One watch-mode refresh: files refused by the loader (or whose name tells no table)
    are moved aside one at a time and the rest retried; loaded files move to loaded/ as
    soon as their load commits. A file that changed during its load (FileChanged) rolls
    that load back and stays, with the files not loaded yet, for the next pass (exit 4)."""
    settling = settling or Settling(0.0)
    if not settling.seen:
        settling.ready(files, time.monotonic())
    taken: set[Path] = set()
    # The loader names files by their resolved path; the landing folder by their own.
    landed = {path.resolve(): path for path in files}
    hooks = LandingHooks(before_commit=lambda paths: settling.unchanged([landed.get(path, path) for path in paths]),
                         after_commit=lambda paths: take_loaded(folder, settling, taken, [landed.get(path, path) for path in paths]))
    while True:
        try:
            code = refresher.run(files, None, landing=hooks)
        except FileChanged as changed:
            print(f"not loaded yet: {changed}", file=sys.stderr, flush=True)
            append_log(refresher.warehouse, {"status": "changed", "changed_at": utc_now(), "file": str(changed.path),
                                             "reason": str(changed)})
            return 4
        except load_events.RefusedFile as refused:
            bad = refused.path if refused.path in files else None
            print(f"refused: {refused}", file=sys.stderr, flush=True)
            if bad is None:
                return 2
            moved = move_to(bad, folder / "refused")
            moved.with_name(moved.name + ".reason.txt").write_text(str(refused) + "\n")
            append_log(refresher.warehouse, {"status": "refused", "refused_at": utc_now(), "file": str(bad), "moved_to": str(moved),
                                             "reason": str(refused)})
            files = [path for path in files if path != bad]
            continue
        if code != 3:
            # Loaded (even when dbt then failed: the rows are in and are never loaded twice).
            take_loaded(folder, settling, taken, files)
        return code


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """The working warehouse and the serving file, the same for refresh, watch and publish."""
    parser.add_argument(
        "--warehouse", type=Path, default=settings.warehouse_path(),
        help="working DuckDB file (default: $WAREHOUSE_PATH, else warehouse/warehouse.duckdb)",
    )
    parser.add_argument("--serving", type=Path, help="published file for BI (default: serving.duckdb beside the warehouse)")
    parser.add_argument(
        "--include-message-facts", action="store_true", help=f"also publish {MESSAGE_FACTS} (an analyst snapshot; grows with history)"
    )


def add_watch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--every", type=float, default=60.0,
                        help="watch mode: refresh at least this often, in seconds, even when no file lands (default 60)")
    parser.add_argument("--poll", type=float, default=1.0, help="watch mode: seconds between looks at DIR (default 1)")
    parser.add_argument("--max-refreshes", type=int, help="watch mode: stop after this many refreshes (default: run until SIGTERM)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="watch mode: take a landed file only once unchanged (size, mtime) for this many seconds, for "
                        "writers that write in place under the final name (default 10; 0 for writers that rename into DIR)")


def refresher_for(args: argparse.Namespace) -> Refresher:
    serving = (args.serving or settings.serving_path(args.warehouse)).resolve()
    return Refresher(args.warehouse.resolve(), serving, args.include_message_facts)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="new event files; the raw table is read from each name")
    add_target_options(parser)
    parser.add_argument("--report-as-of", type=report_as_of_arg,
                        help="UTC 'YYYY-MM-DD HH:MM:SS' (default: the start of the dbt run; leave unset in a schedule)")
    parser.add_argument("--publish-only", action="store_true", help="skip loading and dbt; just publish the current marts")
    parser.add_argument("--watch", type=Path, metavar="DIR",
                        help="run as a service: load files as they land in DIR (write, then rename into DIR)")
    add_watch_options(parser)
    args = parser.parse_args(argv)
    if args.watch and (args.files or args.publish_only or args.report_as_of):
        parser.error("--watch takes no FILES, --publish-only or --report-as-of: it loads what lands and reports as of each run")
    refresher = refresher_for(args)
    if args.watch:
        return watch(refresher, args.watch.resolve(), args.every, args.poll, args.max_refreshes, args.settle)
    try:
        return refresher.run(args.files, args.report_as_of, args.publish_only)
    except load_events.RefusedFile as refused:
        print(f"refused, nothing loaded: {refused}", file=sys.stderr)
        return 2


def watch_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """`tally watch DIR`: the refresh service (`tally refresh --watch DIR`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Live refresh as a service: load files as they land in DIR (write them under a hidden or .tmp "
        "name, then rename them into DIR; a file written in place is taken once unchanged for --settle seconds), "
        "rebuild the live marts and publish; refresh at least every --every "
        "seconds. Loaded files move to DIR/loaded/, refused ones to DIR/refused/ with their reason. SIGTERM stops "
        "it after the current refresh.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="landing folder (created)")
    add_target_options(parser)
    add_watch_options(parser)
    args = parser.parse_args(argv)
    return watch(refresher_for(args), args.dir.resolve(), args.every, args.poll, args.max_refreshes, args.settle)


def publish_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """`tally publish`: the current marts into the serving file (`tally refresh --publish-only`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Publish the current marts of the working warehouse to the serving file BI tools and the "
        "dashboard open read-only (no loading, no dbt): written aside, then swapped in atomically.",
    )
    add_target_options(parser)
    args = parser.parse_args(argv)
    return refresher_for(args).run([], None, publish_only=True)
