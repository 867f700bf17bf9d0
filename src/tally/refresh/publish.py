"""The publish: the working warehouse's marts copied into a new serving file (DuckDB v1.0
storage format, marts only: no raw data, no PII) that atomically replaces the previous
one, with a status row saying what it holds; a failed refresh only records its failure."""

from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from tally import settings
from tally.common import quote_literal, utc_now

PUBLISHED_SCHEMAS = ("marts",)


STATUS_TABLE = "publish_status"


# Message grain is a table per message of history: copying it every two minutes would make
# the refresh grow with history. Analysts get it from a snapshot (--include-message-facts).
MESSAGE_FACTS = "fct_messages"


@dataclass
class PublishPlan:
    """The unique key of each incremental relation (from the parsed project): those are
    synced by key into a copy of the previous publish; every other relation is small (live
    and period marts, dimensions) and copied whole. No plan: publish everything afresh."""

    keys: dict[str, str] = field(default_factory=dict)


def table_names(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
            "and table_type = 'BASE TABLE' order by 1",
            [catalog, schema],
        ).fetchall()
    ]


def column_lists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Every table's (column, type) list in one catalog query (one query per table cost
    ~0.4 s per publish)."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? "
        "order by table_name, column_index",
        [catalog, schema],
    ).fetchall():
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
    con.execute(
        f"insert into serving.{relation} select * from working.{relation} where {key} in (select {key} from changed_keys)"
    )


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
        if (
            not incremental
            or not con.execute(
                "select count(*) from duckdb_functions() where database_name = 'serving' and function_type = 'table_macro'"
            ).fetchone()[0]
        ):
            copy_table_functions(con)
        con.execute("detach serving")
    finally:
        con.close()
    return f"{len(copied)} copied, {len(synced)} synced by key"


def copy_comments(con: duckdb.DuckDBPyConnection, schema: str, tables: list[str]) -> None:
    """The descriptions dbt persisted (persist_docs) as table and column comments, for the
    tables just copied: BI tools show them. CREATE TABLE AS does not carry them over."""
    if not tables:
        return
    for table, comment in con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'working' and schema_name = ? "
        "and comment is not null and list_contains(?, table_name)",
        [schema, tables],
    ).fetchall():
        con.execute(f'comment on table serving.{schema}."{table}" is {quote_literal(comment)}')
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'working' and schema_name = ? "
        "and comment is not null and list_contains(?, table_name)",
        [schema, tables],
    ).fetchall():
        con.execute(f'comment on column serving.{schema}."{table}"."{column}" is {quote_literal(comment)}')


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
                con.execute(f'comment on macro table marts."{name}" is {quote_literal(description)}')
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
    if (
        node.get("type") == "BASE_TABLE"
        and node.get("table_name") in scope
        and not node.get("schema_name")
        and not node.get("catalog_name")
    ):
        return {
            "type": "SUBQUERY",
            "alias": node.get("alias") or node["table_name"],
            "sample": node.get("sample"),
            "query_location": node.get("query_location", 0),
            "query_location_length": node.get("query_location_length", 0),
            "subquery": {"node": copy.deepcopy(scope[node["table_name"]]), "named_param_map": []},
            "column_name_alias": node.get("column_name_alias", []),
        }
    return {key: _inline_ctes(value, scope) for key, value in node.items()}


STATUS_COLUMNS = [
    ("report_as_of", "timestamp"),
    ("window_start", "timestamp"),
    ("window_end", "timestamp"),
    ("newest_event_at", "timestamp"),
    ("newest_loaded_at", "timestamp"),
    ("messages_in_window", "bigint"),
    ("published_at", "timestamp"),
    ("refresh_started_at", "timestamp"),
    ("files_loaded", "bigint"),
    ("last_failed_at", "timestamp"),
    ("last_failure", "varchar"),
    ("failures_since_publish", "bigint"),
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
        con.execute(f"comment on {target} is {quote_literal(comment)}")


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


def publish(
    warehouse: Path, serving: Path, status: dict[str, Any], include_message_facts: bool = False, plan: PublishPlan | None = None
) -> str:
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
            status.update(zip(WINDOW_COLUMNS, window or (), strict=False))
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
    return dict(zip((name for name, _ in STATUS_COLUMNS), row, strict=True)) if row else {}


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
            last_failed_at=failed_at,
            last_failure=failure,
            failures_since_publish=(status.get("failures_since_publish") or 0) + 1,
        )
        write_status(con, status)
    finally:
        con.close()
    swap_in(staging_file, serving)
    return True
