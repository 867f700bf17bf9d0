"""The publish: the working warehouse's marts into a new serving catalog (DuckDB v1.2 storage
format, marts only: no raw data, no PII) that atomically replaces the previous one, with a
status row saying what it holds; a failed refresh only records its failure.

The catalog is small: the small marts copied whole, the status row, the table functions,
and, for the large facts that grow with history (PARTITIONED), views over immutable Parquet
files, one per day, in the folder beside it (serving.duckdb -> serving.parts/). A publish
writes only the days that hold rows of keys changed since the previous publish (new file
names, never an overwrite), then a new catalog listing the current files, renamed into
place. Each catalog version is also kept as a hard link serving.parts/catalog-<version>.duckdb
with its manifest (the files it lists); a superseded version and the files only it lists are
deleted once no reader holds it: every DuckDB connection to a file (read-only too) holds an
fcntl lock on it, so a non-blocking exclusive lock that succeeds means no reader is left."""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
    """The unique key of each incremental relation (from the parsed project): a large one
    (PARTITIONED) gets only the days holding rows of keys loaded since the previous publish
    rewritten; every other relation is small and copied whole. No plan: publish everything
    afresh (a full build may change any row without a newer load time)."""

    keys: dict[str, str] = field(default_factory=dict)


def table_names(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    """The relations of a schema of the working catalog: its tables, and its views (on Spark
    the working catalog is a mirror of views over the Delta tables, tally.refresh.spark)."""
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
            "and table_type in ('BASE TABLE', 'VIEW') order by 1",
            [catalog, schema],
        ).fetchall()
    ]


# The comment of each table and view of the working catalog (duckdb_tables lists no view).
RELATION_COMMENTS = (
    "select table_name, comment from duckdb_tables() where database_name = 'working' and schema_name = ? "
    "and list_contains(?, table_name) "
    "union all select view_name, comment from duckdb_views() where database_name = 'working' and schema_name = ? "
    "and list_contains(?, view_name)"
)


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


# The large facts (a row per message-hour, or per message): served as views over one Parquet
# file per UTC day of `time column`, rows ordered inside a file so that row-group statistics
# prune a one-campaign or one-range query. Every other relation is small and copied whole.
PARTITIONED: dict[str, tuple[str, tuple[str, ...]]] = {
    "fct_message_hours": ("activity_hour", ("campaign_id", "execution_id", "channel", "activity_hour")),
    "fct_failure_hours": ("activity_hour", ("campaign_id", "execution_id", "channel", "activity_hour")),
    "fct_link_click_hours": ("activity_hour", ("campaign_id", "execution_id", "channel", "activity_hour")),
    MESSAGE_FACTS: ("first_event_at", ("campaign_id", "execution_id", "channel", "first_event_at")),
}
ROW_GROUP_SIZE = 30_720
# The file of a relation that has no row (a view needs at least one file to read).
NO_DAY = "empty"
# The file of a relation holding every current row of the keys changed since its day files
# were last written: the view reads the day files without those keys, then this file. A
# publish rewrites only it (its size follows the changes since the last compaction, not the
# history); once it holds more than SERVING_DELTA_MAX_ROWS rows, the days of its keys are
# written again and it starts empty (a compaction).
DELTA = "delta"
DEFAULT_DELTA_MAX_ROWS = 200_000
# A column equal on every row of a key that an incremental run re-derives with it and newer
# than any earlier load when it does: the delta is then every row where it is newer than
# the delta's start, a scan of the rows appended since (zone maps skip the rest) instead of
# a semi join on the key over every row. Relations without one (their rows of a key carry
# their own load times) are small and use the key.
DELTA_COLUMNS = {"fct_message_hours": "message_last_loaded_at", MESSAGE_FACTS: "last_loaded_at"}


def delta_max_rows() -> int:
    """$SERVING_DELTA_MAX_ROWS (0: no delta, every publish rewrites the changed days)."""
    value = os.environ.get("SERVING_DELTA_MAX_ROWS", "")
    if not value:
        return DEFAULT_DELTA_MAX_ROWS
    if not value.isdigit():
        raise ValueError(f"SERVING_DELTA_MAX_ROWS must be a whole number of rows, not {value!r}")
    return int(value)


# A superseded catalog is only looked at once this old: a reader that resolved the serving
# path just before the rename has opened (and locked) it well before then.
GC_GRACE_SECONDS = 30.0


def parts_folder(serving: Path) -> Path:
    """The Parquet files and catalog versions of a serving file: serving.duckdb -> serving.parts/."""
    return serving.with_name(serving.name + ".parts")


def manifest_path(parts: Path, version: str) -> Path:
    return parts / f"manifest-{version}.json"


def catalog_link(parts: Path, version: str) -> Path:
    return parts / f"catalog-{version}.duckdb"


def new_version() -> str:
    """Microseconds since the epoch, zero-padded: unique (publishes are serialized by the
    refresh lock), sorted by age, never reused by a later publish."""
    return f"{time.time_ns() // 1000:017d}"


def current_manifest(serving: Path) -> dict[str, Any] | None:
    """The manifest of the catalog now at `serving` (the version whose hard link is the same
    inode), or None: no publish yet, or a file published before the Parquet folder existed."""
    parts = parts_folder(serving)
    try:
        inode = serving.stat().st_ino
    except FileNotFoundError:
        return None
    for path in sorted(parts.glob("manifest-*.json"), reverse=True):
        version = path.stem.removeprefix("manifest-")
        try:
            if catalog_link(parts, version).stat().st_ino == inode:
                return json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            continue
    return None


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_days(
    con: duckdb.DuckDBPyConnection, relation: str, name: str, days: list[date | None], version: str, parts: Path
) -> dict[str, str | None]:
    """One new file per day (by the relation's time column) with every current row of that
    day; None for a day that no longer holds a row."""
    time_column, order = PARTITIONED[name]
    folder = parts / name
    folder.mkdir(parents=True, exist_ok=True)
    order_by = ", ".join(f'"{column}"' for column in order)
    written: dict[str, str | None] = {}
    for day in days:
        label = day.isoformat() if day is not None else "null"
        target = folder / f"{label}.{version}.parquet"
        if day is None:
            where, parameters = f'"{time_column}" is null', []
        else:
            where, parameters = f'"{time_column}" >= ? and "{time_column}" < ?', [day, day + timedelta(days=1)]
        rows = con.execute(
            f"copy (select * from {relation} where {where} order by {order_by}) to '{target}' "
            f"(format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE})",
            parameters,
        ).fetchone()[0]
        if rows:
            fsync_path(target)
            written[label] = f"{name}/{target.name}"
        else:
            target.unlink(missing_ok=True)
            written[label] = None
    fsync_path(folder)
    return written


def changed_keys(con: duckdb.DuckDBPyConnection, relation: str, key: str, watermark: str | None) -> int:
    """Fills the temp table changed_keys with the keys having a row loaded after `watermark`
    (an incremental run re-derives all of a key's rows together, and a re-derived key always
    has a newly loaded row); returns how many."""
    con.execute(
        f"create or replace temp table changed_keys as select distinct {key} from {relation} "
        "where last_loaded_at > coalesce(?::timestamp, timestamp '1900-01-01')",
        [watermark],
    )
    return con.execute("select count(*) from changed_keys").fetchone()[0]


def key_days(con: duckdb.DuckDBPyConnection, relation: str, name: str, key: str, published: list[str]) -> list[date | None]:
    """The days holding a row of a key in changed_keys, now (in the working relation) or in
    the `published` day files (absolute paths): the days whose files must be written again."""
    time_column = PARTITIONED[name][0]
    days = {
        row[0]
        for row in con.execute(
            f'select distinct cast("{time_column}" as date) from {relation} where {key} in (select {key} from changed_keys)'
        ).fetchall()
    }
    if published:
        days |= {
            row[0]
            for row in con.execute(
                f'select distinct cast("{time_column}" as date) from read_parquet(?, hive_partitioning = false) '
                f"where {key} in (select {key} from changed_keys)",
                [published],
            ).fetchall()
        }
    return sorted(days, key=lambda day: (day is None, day))


def write_delta(
    con: duckdb.DuckDBPyConnection, relation: str, name: str, where: str, version: str, parts: Path
) -> tuple[str | None, int]:
    """One new file with the relation's rows `where` holds (every current row of the delta's
    keys), ordered like a day file so a one-campaign query prunes its row groups too; its
    path and row count."""
    order_by = ", ".join(f'"{column}"' for column in PARTITIONED[name][1])
    folder = parts / name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{DELTA}.{version}.parquet"
    rows = con.execute(
        f"copy (select * from {relation} where {where} order by {order_by}) "
        f"to '{target}' (format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE})"
    ).fetchone()[0]
    if not rows:
        target.unlink(missing_ok=True)
        return None, 0
    fsync_path(target)
    fsync_path(folder)
    return f"{name}/{target.name}", rows


def publish_partitioned(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    columns: list[tuple[str, str]],
    key: str | None,
    previous: dict[str, Any] | None,
    version: str,
    parts: Path,
) -> tuple[dict[str, Any], int, int]:
    """Writes what changed in one large relation since `previous` (its entry in the previous
    manifest; None: every day afresh) and returns its new manifest entry, the number of day
    files and of delta files written.

    Incremental: the keys loaded since the previous publish, with the keys already in the
    previous delta (for a relation with a DELTA_COLUMNS entry: the rows where it is newer
    than the delta's start), get a new delta file holding all their current rows, and the day files
    stay as they are; when that would pass delta_max_rows(), the days holding those keys'
    rows (in the working relation or in the published day files) are written again instead
    and the delta starts empty (a compaction). So a publish writes rows in proportion to what
    changed since the last compaction, and reads no published day file except to compact."""
    relation = f'working.{schema}."{name}"'
    time_column = PARTITIONED[name][0]
    has_watermark = any(column == "last_loaded_at" for column, _ in columns)
    incremental = (
        previous is not None and key is not None and has_watermark and previous.get("columns") == [list(c) for c in columns]
    )
    days: list[date | None] = []
    deltas_written = 0
    delta_rows = 0
    # The watermark the current delta started from (the last publish that wrote days).
    delta_since = None
    if incremental:
        assert previous is not None and key is not None
        files = {label: path for label, path in previous["files"].items() if label != NO_DAY}
        delta_before = files.pop(DELTA, None)
        delta_rows = previous.get("delta_rows", 0) if delta_before else 0
        delta_since = previous.get("delta_since") if delta_before else previous.get("watermark")
        column = DELTA_COLUMNS.get(name) if (delta_since is not None or not delta_before) else None
        if changed_keys(con, relation, key, previous.get("watermark")):
            if column is not None:
                # A constant, so the scan's zone maps skip the rows written before it.
                delta_where = f'"{column}" > timestamp {quote_literal(delta_since or "1900-01-01")}'
            else:
                delta_where = f"{key} in (select {key} from changed_keys)"
                if delta_before:
                    con.execute(
                        f"insert into changed_keys select distinct {key} from read_parquet(?, hive_partitioning = false) "
                        f"where {key} not in (select {key} from changed_keys)",
                        [str(parts / delta_before)],
                    )
            limit = delta_max_rows()
            delta, delta_rows = write_delta(con, relation, name, delta_where, version, parts) if limit else (None, 0)
            if delta is not None and delta_rows <= limit:
                files[DELTA] = delta
                deltas_written = 1
            else:
                if delta is not None:  # too large: never listed, so never read
                    (parts / delta).unlink()
                if column is not None:  # the keys only a compaction needs: the delta's
                    con.execute(
                        f"insert into changed_keys select distinct {key} from {relation} where {delta_where} "
                        f"and {key} not in (select {key} from changed_keys)"
                    )
                base = [str(parts / path) for path in files.values()]
                days = key_days(con, relation, name, key, base)
                delta_rows = 0
        elif delta_before:
            files[DELTA] = delta_before
    else:
        files = {}
        days = [row[0] for row in con.execute(f'select distinct cast("{time_column}" as date) from {relation}').fetchall()]
    written = write_days(con, relation, name, days, version, parts)
    for label, path in written.items():
        if path is None:
            files.pop(label, None)
        else:
            files[label] = path
    if not files:
        target = parts / name / f"{NO_DAY}.{version}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from {relation} limit 0) to '{target}' (format parquet)")
        files[NO_DAY] = f"{name}/{target.name}"
    watermark = None
    if has_watermark:
        newest = con.execute(f"select max(last_loaded_at) from {relation}").fetchone()[0]
        watermark = newest.isoformat(sep=" ") if newest is not None else None
    entry = {
        "columns": [list(c) for c in columns],
        "key": key,
        "watermark": watermark,
        "files": dict(sorted(files.items())),
        "delta_rows": delta_rows if DELTA in files else 0,
        # A delta's keys are those re-derived after this watermark: the publish that last
        # wrote the days (the previous one when it did, or this one when it wrote no delta).
        "delta_since": delta_since if DELTA in files else watermark,
    }
    return entry, sum(1 for path in written.values() if path), deltas_written


def create_view(
    con: duckdb.DuckDBPyConnection, schema: str, name: str, columns: list[tuple[str, str]], parts: Path, entry: dict[str, Any]
) -> None:
    """A view over the relation's files with the working relation's columns and types: the
    day files, and when there is a delta, the day files' rows of keys the delta does not
    hold followed by the delta's rows (the current rows of those keys)."""

    def source(paths: list[str]) -> str:
        return f"read_parquet([{', '.join(quote_literal(str(parts / path)) for path in paths)}], hive_partitioning = false)"

    delta = entry["files"].get(DELTA)
    base = [path for label, path in entry["files"].items() if label != DELTA]
    read_types = dict(
        con.execute(f"select column_name, column_type from (describe select * from {source(base or [delta])})").fetchall()
    )
    select = ", ".join(
        f'"{column}"' if read_types.get(column) == kind else f'cast("{column}" as {kind}) as "{column}"'
        for column, kind in columns
    )
    if delta is None:
        body = f"select {select} from {source(base)}"
    elif not base:
        body = f"select {select} from {source([delta])}"
    else:
        key = entry["key"]
        # An anti join keeps the outer query's filters pushed into the day files' scan.
        body = (
            f"select {select} from {source(base)} as day_rows anti join {source([delta])} as delta_rows "
            f'on day_rows."{key}" = delta_rows."{key}" '
            f"union all select {select} from {source([delta])}"
        )
    con.execute(f'create view serving.{schema}."{name}" as {body}')


def relation_shapes(
    con: duckdb.DuckDBPyConnection, schema: str, names: list[str], columns: dict[str, list[tuple[str, str]]]
) -> dict[str, str]:
    """A signature of each working relation's shape: its columns and its table and column
    comments (what a catalog's table or view carries besides rows)."""
    comments: dict[str, list[Any]] = {name: [] for name in names}
    for table, comment in con.execute(RELATION_COMMENTS, [schema, names, schema, names]).fetchall():
        comments[table].append(comment)
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'working' "
        "and schema_name = ? and list_contains(?, table_name) order by table_name, column_index",
        [schema, names],
    ).fetchall():
        comments[table].append([column, comment])
    return {name: digest([columns[name], comments[name]]) for name in names}


def small_table_signatures(
    con: duckdb.DuckDBPyConnection, schema: str, names: list[str], columns: dict[str, list[tuple[str, str]]]
) -> dict[str, dict[str, str]]:
    """Two signatures of each small relation of the working warehouse: `shape`
    (relation_shapes) and `rows`, an order-free hash of its rows (count and sum of row
    hashes). A catalog started from the previous one keeps a relation whose two are
    unchanged, replaces only the rows of one whose shape is unchanged (its comments stay),
    and re-creates the others. One scan of each small relation, no write."""
    if not names:
        return {}
    shapes = relation_shapes(con, schema, names, columns)
    contents = con.execute(
        " union all ".join(
            f'select {quote_literal(name)}, count(*), sum(hash(t)::hugeint)::varchar from working.{schema}."{name}" as t'
            for name in names
        )
    ).fetchall()
    return {name: {"shape": shapes[name], "rows": digest([rows, total])} for name, rows, total in contents}


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()


def catalog_relations(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, str]:
    """The relations of the catalog being written: name -> 'view' or 'table'."""
    return {
        name: "view" if kind == "VIEW" else "table"
        for name, kind in con.execute(
            "select table_name, table_type from information_schema.tables where table_catalog = 'serving' and table_schema = ?",
            [schema],
        ).fetchall()
    }


def write_catalog(
    warehouse: Path,
    target: Path,
    include_message_facts: bool,
    plan: PublishPlan,
    previous: dict[str, Any] | None,
    version: str,
    parts: Path,
) -> tuple[str, dict[str, Any]]:
    """Fills the new catalog `target` with the published schemas of the working warehouse:
    the large relations as views over their day files (only the changed days written when
    `previous`, the manifest of the current publish, lists their files), every other
    relation copied whole, the table functions. Returns a summary and the new manifest
    (without version).

    When `target` is a copy of the current catalog (`previous["copied"]`), only what
    differs from it is written: the rows of a small relation whose rows changed (replaced
    in place: its comments stay), a relation whose columns or comments changed
    (re-created), a view whose files changed, a function whose definition changed; what
    the working warehouse no longer has is dropped. Re-creating every relation, function
    and column comment was a fixed second or more of every publish."""
    previous = previous or {}
    started_from_previous = bool(previous.get("copied"))
    known: dict[str, Any] = previous.get("tables", {}) if started_from_previous else {}
    con = duckdb.connect()
    copied, replaced, views, days_written, deltas_written = [], [], [], 0, 0
    relations: dict[str, Any] = {}
    signatures: dict[str, dict[str, str]] = {}
    try:
        con.execute(f"attach '{warehouse}' as working (read_only)")
        con.execute(f"attach '{target}' as serving (storage_version '{settings.SERVING_STORAGE_VERSION}')")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists serving.{schema}")
            wanted = [name for name in table_names(con, "working", schema) if include_message_facts or name != MESSAGE_FACTS]
            working_columns = column_lists(con, "working", schema)
            for name in wanted:
                if name not in PARTITIONED:
                    continue
                entry, written, deltas = publish_partitioned(
                    con,
                    schema,
                    name,
                    working_columns[name],
                    plan.keys.get(name),
                    previous.get("relations", {}).get(f"{schema}.{name}"),
                    version,
                    parts,
                )
                relations[f"{schema}.{name}"] = entry
                days_written += written
                deltas_written += deltas
            partitioned = [name for name in wanted if f"{schema}.{name}" in relations]
            for name, shape in relation_shapes(con, schema, partitioned, working_columns).items():
                relations[f"{schema}.{name}"]["shape"] = shape
            small = [name for name in wanted if f"{schema}.{name}" not in relations]
            signatures.update(
                (f"{schema}.{name}", signature)
                for name, signature in small_table_signatures(con, schema, small, working_columns).items()
            )
            existing = catalog_relations(con, schema) if started_from_previous else {}
            # One transaction for the catalog: a statement per column comment, each
            # committed on its own, was most of a publish's time (~2 s).
            con.execute("begin transaction")
            for name, kind in existing.items():
                if name not in wanted and name != STATUS_TABLE:
                    con.execute(f'drop {kind} serving.{schema}."{name}"')
            created_tables, created_views = [], []
            for name in wanted:
                qualified = f"{schema}.{name}"
                entry = relations.get(qualified)
                before = known.get(qualified) or {}
                if entry is not None:
                    entry_before = previous.get("relations", {}).get(qualified, {})
                    if existing.get(name) == "view" and all(entry_before.get(k) == entry[k] for k in ("files", "shape")):
                        continue
                    if name in existing:
                        con.execute(f'drop {existing[name]} serving.{schema}."{name}"')
                    create_view(con, schema, name, working_columns[name], parts, entry)
                    views.append(name)
                    created_views.append(name)
                elif existing.get(name) == "table" and before.get("shape") == signatures[qualified]["shape"]:
                    if before.get("rows") != signatures[qualified]["rows"]:
                        sync_rows(con, schema, name, plan.keys.get(name), working_columns[name])
                        replaced.append(name)
                else:
                    if name in existing:
                        con.execute(f'drop {existing[name]} serving.{schema}."{name}"')
                    con.execute(f'create table serving.{schema}."{name}" as select * from working.{schema}."{name}"')
                    copied.append(name)
                    created_tables.append(name)
            copy_comments(con, schema, created_tables, created_views)
            con.execute("commit")
        functions = copy_table_functions(con, previous.get("functions", {}), started_from_previous)
        con.execute("detach serving")
    finally:
        con.close()
    small_count = len(signatures)
    summary = (
        f"{len(copied)} copied, {len(replaced)} rows replaced, {small_count - len(copied) - len(replaced)} kept, "
        f"{len(views)} Parquet views written ({days_written} day files, {deltas_written} delta files written)"
    )
    return summary, {"relations": relations, "functions": functions, "tables": signatures}


def sync_rows(con: duckdb.DuckDBPyConnection, schema: str, name: str, key: str | None, columns: list[tuple[str, str]]) -> None:
    """Makes the catalog's copy of a small relation hold the working relation's rows. With a
    unique key (an incremental fact: one row per key), only the rows whose key is new, gone,
    or whose values differ (by row hash) are deleted and inserted: a fact that grows with
    history (fct_delivery_hours: a row per delivery and hour) changes in a few rows per
    batch, and rewriting it whole was most of a publish. Otherwise every row is replaced."""
    target, source = f'serving.{schema}."{name}"', f'working.{schema}."{name}"'
    if key is None or key not in {column for column, _ in columns}:
        con.execute(f"delete from {target}")
        con.execute(f"insert into {target} select * from {source}")
        return
    con.execute(
        f"create or replace temp table changed_rows as select coalesce(now_rows.k, published.k) as k "
        f"from (select {key} as k, hash(t) as h from {source} as t) as now_rows "
        f"full outer join (select {key} as k, hash(t) as h from {target} as t) as published on now_rows.k = published.k "
        "where now_rows.h is distinct from published.h"
    )
    con.execute(f"delete from {target} where {key} in (select k from changed_rows)")
    con.execute(f"insert into {target} select * from {source} where {key} in (select k from changed_rows)")


def copy_comments(con: duckdb.DuckDBPyConnection, schema: str, tables: list[str], views: list[str]) -> None:
    """The descriptions dbt persisted (persist_docs) as table and column comments, for the
    tables and views just created: BI tools show them. CREATE TABLE AS does not carry them over."""
    if not tables and not views:
        return
    for table, comment in con.execute(
        f"select * from ({RELATION_COMMENTS}) where comment is not null", [schema, tables + views, schema, tables + views]
    ).fetchall():
        kind = "view" if table in views else "table"
        con.execute(f'comment on {kind} serving.{schema}."{table}" is {quote_literal(comment)}')
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'working' and schema_name = ? "
        "and comment is not null and list_contains(?, table_name)",
        [schema, tables + views],
    ).fetchall():
        con.execute(f'comment on column serving.{schema}."{table}"."{column}" is {quote_literal(comment)}')


def copy_table_functions(con: duckdb.DuckDBPyConnection, cached: dict[str, Any], started_from_previous: bool) -> dict[str, Any]:
    """Re-creates the warehouse's table functions (period_*_between) in the serving file,
    from their catalog (marts.period_table_functions: name and arguments with defaults) and
    DuckDB's stored body. Their bodies name relations without a database, so in the
    serving file they read the serving file's own copies (tables or views). Inlining the
    CTEs takes seconds, so each body inlined is kept in the manifest (`cached`, by a hash of
    the warehouse's definition) and reused while the definition is the same. In a catalog
    copied from the previous one (`started_from_previous`, `cached` its manifest's), a
    function whose definition and description are unchanged is already there and left as
    it is; one the warehouse no longer has is dropped."""
    catalog = con.execute(
        "select count(*) from information_schema.tables where table_catalog = 'working' "
        "and table_schema = 'marts' and table_name = 'period_table_functions'"
    ).fetchone()
    functions = []
    if catalog and catalog[0]:
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
    present = (
        {
            row[0]
            for row in con.execute(
                "select function_name from duckdb_functions() where database_name = 'serving' and schema_name = 'marts' "
                "and function_type = 'table_macro'"
            ).fetchall()
        }
        if started_from_previous
        else set()
    )
    created: dict[str, Any] = {}
    # Created from inside the serving file, where the names in their bodies resolve.
    con.execute("use serving")
    try:
        for name in present - {row[0] for row in functions}:
            con.execute(f'drop macro table marts."{name}"')
        for name, arguments, body, description in functions:
            source = digest([arguments, body])
            entry = cached.get(name)
            if not isinstance(entry, dict) or entry.get("source") != source:
                entry = {"source": source, "body": without_ctes(con, body)}
            entry = dict(entry, described=digest(description))
            if name in present and cached.get(name) == entry:
                created[name] = entry
                continue
            con.execute(f'create or replace macro marts."{name}"({arguments}) as table {entry["body"]}')
            if description:
                con.execute(f'comment on macro table marts."{name}" is {quote_literal(description)}')
            created[name] = entry
    finally:
        con.execute("use memory")
    return created


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
    """The one status row; in a catalog copied from the previous one the table (and its
    comments) is already there and only its row is replaced."""
    present = con.execute(
        "select list(column_name || ' ' || data_type order by column_index) from duckdb_columns() "
        "where schema_name = 'marts' and table_name = ?",
        [STATUS_TABLE],
    ).fetchone()[0]
    placeholders = ", ".join("?" for _ in STATUS_COLUMNS)
    values = [status.get(name) for name, _ in STATUS_COLUMNS]
    if present == [f"{name} {kind.upper()}" for name, kind in STATUS_COLUMNS]:
        con.execute("begin transaction")
        con.execute(f"delete from marts.{STATUS_TABLE}")
        con.execute(f"insert into marts.{STATUS_TABLE} values ({placeholders})", values)
        con.execute("commit")
        return
    columns = ", ".join(f"{name} {kind}" for name, kind in STATUS_COLUMNS)
    con.execute(f"create or replace table marts.{STATUS_TABLE} ({columns})")
    con.execute(f"insert into marts.{STATUS_TABLE} values ({placeholders})", values)
    for column, comment in STATUS_COMMENTS.items():
        target = f"table marts.{STATUS_TABLE}" if not column else f"column marts.{STATUS_TABLE}.{column}"
        con.execute(f"comment on {target} is {quote_literal(comment)}")


def swap_in(staging_file: Path, serving: Path, version: str, manifest: dict[str, Any]) -> None:
    """Makes the staged catalog the serving file: its manifest and its hard link in the
    Parquet folder first (so a version a reader may hold is always known), then the rename.
    Then the versions no reader holds any more are collected."""
    parts = parts_folder(serving)
    fsync_path(staging_file)
    # Read-only on disk too: a BI tool that forgets the read-only flag gets an error
    # instead of taking a write lock (for non-root users; root ignores mode bits).
    staging_file.chmod(0o444)
    target = manifest_path(parts, version)
    pending = target.with_name(target.name + ".tmp")
    pending.write_text(json.dumps({"relations": {}, "functions": {}, **manifest, "version": version}, indent=1))
    fsync_path(pending)
    os.replace(pending, target)
    os.link(staging_file, catalog_link(parts, version))
    fsync_path(parts)
    os.replace(staging_file, serving)
    fsync_path(serving.parent)
    try:
        collect_garbage(serving)
    except OSError as error:  # never fails a publish: the next one collects again
        print(f"serving garbage collection skipped: {error}", file=sys.stderr)


def next_file(serving: Path) -> Path:
    staging_file = serving.with_name(serving.name + ".next")
    for leftover in (staging_file, staging_file.with_name(staging_file.name + ".wal")):
        leftover.unlink(missing_ok=True)
    parts_folder(serving).mkdir(parents=True, exist_ok=True)
    return staging_file


def released(link: Path) -> bool:
    """Deletes a superseded catalog version if no reader holds it: a non-blocking exclusive
    fcntl lock on its inode fails while any process has it open in DuckDB (read-only
    connections included). The lock is held while the link is removed, so no reader can
    lock it in between. Must not run in a process holding a connection to that file
    (fcntl locks belong to the process)."""
    try:
        link.chmod(0o644)
        fd = os.open(link, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            link.chmod(0o444)
            return False
        link.unlink()
        return True
    finally:
        os.close(fd)


def collect_garbage(serving: Path, grace_seconds: float = GC_GRACE_SECONDS) -> dict[str, int]:
    """Removes the catalog versions superseded more than `grace_seconds` ago that no reader
    holds, the versions a killed publish left unpublished, and every Parquet file that no
    remaining version lists. Runs under the refresh lock (after each publish)."""
    parts = parts_folder(serving)
    current = (current_manifest(serving) or {}).get("version")
    versions = sorted(path.stem.removeprefix("manifest-") for path in parts.glob("manifest-*.json"))
    kept, removed = [], 0
    for index, version in enumerate(versions):
        if version == current:
            kept.append(version)
            continue
        if current is not None and version < current:
            superseded_at = manifest_path(parts, versions[index + 1]).stat().st_mtime
            if time.time() - superseded_at < grace_seconds or not released(catalog_link(parts, version)):
                kept.append(version)
                continue
        elif not released(catalog_link(parts, version)):  # never published (killed before its rename)
            kept.append(version)
            continue
        manifest_path(parts, version).unlink(missing_ok=True)
        removed += 1
    listed = {catalog_link(parts, version) for version in kept}
    for version in kept:
        for entry in json.loads(manifest_path(parts, version).read_text())["relations"].values():
            listed |= {parts / path for path in entry["files"].values()}
    files = 0
    for path in [*parts.glob("*/*.parquet"), *parts.glob("catalog-*.duckdb"), *parts.glob("*.tmp")]:
        if path not in listed and (path.suffix != ".duckdb" or released(path)):
            path.unlink(missing_ok=True)
            files += 1
    return {"versions_removed": removed, "versions_kept": len(kept), "files_removed": files}


def start_from_current(serving: Path, staging_file: Path, current: dict[str, Any]) -> bool:
    """Starts the next catalog as a copy of the current one (a few MiB: small marts,
    functions, views) when the current one has a manifest with its small relations'
    signatures; the copy is the staging file, never the published inode a reader holds."""
    if not current.get("tables") or not serving.exists():
        return False
    shutil.copyfile(serving, staging_file)
    staging_file.chmod(0o644)
    return True


def publish(
    warehouse: Path, serving: Path, status: dict[str, Any], include_message_facts: bool = False, plan: PublishPlan | None = None
) -> str:
    """Writes the next serving catalog (and the changed day files of the large relations)
    and swaps it in. With a plan (a refresh that knows the incremental relations' keys) and
    a current publish in this layout, only the days holding rows of keys loaded since that
    publish are written; otherwise every day. The catalog starts as a copy of the current
    one when it can, and only what changed is written into it. The last failed refresh
    stays in the status row after later successes (with failures_since_publish back to 0),
    so a reader can still see what failed last."""
    staging_file = next_file(serving)
    parts = parts_folder(serving)
    current = current_manifest(serving) or {}
    copied = start_from_current(serving, staging_file, current)
    if not copied:
        status.update(previous_failure(serving))
    # Without a plan every day is written afresh; the inlined table functions are reused.
    previous = current if plan is not None and plan.keys else {key: current.get(key, {}) for key in ("functions", "tables")}
    previous = dict(previous, copied=copied)
    version = new_version()
    summary, manifest = write_catalog(
        warehouse, staging_file, include_message_facts, plan or PublishPlan(), previous, version, parts
    )
    con = duckdb.connect(str(staging_file))
    try:
        if copied:  # the current status row came with the copy
            status.update(
                zip(("last_failed_at", "last_failure"), read_status_row(con, ("last_failed_at", "last_failure")), strict=True)
            )
        tables_published = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
        if "live_report_status" in tables_published:
            window = con.execute(f"select {', '.join(WINDOW_COLUMNS)} from marts.live_report_status").fetchone()
            status.update(zip(WINDOW_COLUMNS, window or (), strict=False))
        status["published_at"] = utc_now()
        write_status(con, status)
    finally:
        con.close()
    swap_in(staging_file, serving, version, manifest)
    return summary


def read_status_row(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...]) -> tuple[Any, ...]:
    """These columns of the status row of an open catalog (None each when it has none)."""
    try:
        row = con.execute(f"select {', '.join(columns)} from marts.{STATUS_TABLE}").fetchone()
    except duckdb.Error:  # a file published before the status row existed
        row = None
    return tuple(row) if row else (None,) * len(columns)


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
    reader sees both the last good numbers and that the newest refresh failed: a copy of
    the current catalog (small; it lists the same Parquet files) with the new status row."""
    status = read_status(serving)
    if not status:
        return False
    previous = current_manifest(serving)
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
    swap_in(staging_file, serving, new_version(), {key: value for key, value in (previous or {}).items() if key != "version"})
    return True
