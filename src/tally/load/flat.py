"""The flat layout: raw event files in the contract's columns (CSV with header, Parquet,
NDJSON) appended to the raw tables of the DuckDB warehouse, and the pieces the lake and
PostgreSQL loaders share (the contract check, the select that reads a file as text).
The command and the promises it keeps are in tally.load.command."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from tally import settings

RAW_SCHEMA = "raw"
AUDIT_TABLE = f"{RAW_SCHEMA}._load_audit"

EVENT_KEYS = ["event_id", "event_ts", "ingested_at", "campaign_id", "execution_id", "message_id", "profile_id", "channel"]

# Contract columns per table, in order; the flag says whether the column must be present in
# every file (value-required columns). Optional columns may be absent and load as null.
CONTRACT: dict[str, list[tuple[str, bool]]] = {
    "message_feedback_events": [(c, c != "ingested_at") for c in EVENT_KEYS]
    + [("status", True), ("failure_type", False), ("reason", False), ("recipient_address", False), ("platform", False)],
    "message_tracking_events": [(c, c != "ingested_at") for c in EVENT_KEYS]
    + [
        ("interaction", True),
        ("url", False),
        ("element_id", False),
        ("offer_id", False),
        ("platform", False),
        ("user_agent", False),
    ],
    "offer_propositions": [(c, c != "ingested_at") for c in EVENT_KEYS] + [("offer_id", True)],
    "campaigns": [
        ("campaign_id", True),
        ("campaign_name", False),
        ("campaign_type", False),
        ("created_at", False),
        ("ingested_at", False),
    ],
}
METADATA_COLUMNS = "_load_id varchar, _source_file varchar, _loaded_at timestamp"
NESTED_TYPES = ("STRUCT", "MAP", "UNION", "[]", "LIST", "ARRAY")
FORMATS = {".csv": "csv", ".parquet": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}


class RefusedFile(Exception):
    """A file that does not fit the contract; the message says what to fix."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class PreparedFile:
    path: Path
    sha256: str
    select_sql: str


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def reader_sql(path: Path, file_format: str, columns: list[str] | None = None) -> str:
    literal = quote_literal(str(path))
    if file_format == "csv":
        # all_varchar: values land as received; strict parsing refuses a malformed file whole.
        return f"read_csv({literal}, header = true, all_varchar = true, strict_mode = true)"
    if file_format == "parquet":
        return f"read_parquet({literal})"
    if columns is None:
        return f"read_json({literal}, format = 'newline_delimited', sample_size = -1)"
    spec = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
    return f"read_json({literal}, format = 'newline_delimited', columns = {{{spec}}})"


def describe(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> list[tuple[str, str]]:
    try:
        rows = con.execute(f"describe select * from {reader_sql(path, file_format)}").fetchall()
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RefusedFile(f"{path}: cannot be read as {file_format}: {first_line}", path) from error
    return [(str(name), str(column_type)) for name, column_type, *_ in rows]


def column_expression(source_name: str, column_type: str) -> str:
    ident = quote_ident(source_name)
    if column_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"strftime(timezone('UTC', {ident}), '%Y-%m-%d %H:%M:%S.%f')"
    if column_type.startswith("TIMESTAMP"):
        return f"strftime(cast({ident} as timestamp), '%Y-%m-%d %H:%M:%S.%f')"
    return f"cast({ident} as varchar)"


def prepare(con: duckdb.DuckDBPyConnection, table: str, path: Path, file_format: str | None) -> PreparedFile:
    """Checks a file's columns against the contract and builds the select that loads it."""
    if not path.is_file():
        raise RefusedFile(f"{path}: no such file", path)
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path}: the file is empty; expected a header or data in the {table} contract's columns", path)
    fmt = file_format or FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise RefusedFile(f"{path}: unknown file type {path.suffix!r}; expected .csv, .parquet, .ndjson or .jsonl (or pass --format)", path)
    contract = CONTRACT[table]
    expected = [name for name, _ in contract]
    found = describe(con, path, fmt)
    by_name: dict[str, tuple[str, str]] = {}
    for name, column_type in found:
        key = name.strip().lower()
        if key in by_name:
            raise RefusedFile(f"{path}: column {name!r} appears twice", path)
        by_name[key] = (name, column_type)
    for key, (name, _) in by_name.items():
        if key not in expected:
            raise RefusedFile(
                f"{path}: unexpected column {name!r} for table {table}; expected only: {', '.join(expected)}", path
            )
    for name, required in contract:
        if required and name not in by_name:
            raise RefusedFile(
                f"{path}: missing required column {name!r} for table {table}; expected columns: {', '.join(expected)}", path
            )
    for key, (name, column_type) in by_name.items():
        if any(marker in column_type.upper() for marker in NESTED_TYPES):
            raise RefusedFile(f"{path}: column {name!r} has type {column_type}; expected a scalar (text, number or timestamp)", path)
    if fmt == "ndjson":
        source = reader_sql(path, fmt, [by_name[key][0] for key in by_name])
        types = {key: "VARCHAR" for key in by_name}
    else:
        source = reader_sql(path, fmt)
        types = {key: column_type for key, (_, column_type) in by_name.items()}
    select_list = []
    for name in expected:
        if name in by_name:
            select_list.append(f"{column_expression(by_name[name][0], types[name])} as {quote_ident(name)}")
        else:
            select_list.append(f"null as {quote_ident(name)}")
    if fmt == "csv":
        refuse_without_rows(con, table, path, source)
    return PreparedFile(path=path, sha256=file_sha256(path), select_sql=f"select {', '.join(select_list)} from {source}")


def refuse_without_rows(con: duckdb.DuckDBPyConnection, table: str, path: Path, source: str) -> None:
    """A CSV file with a header and no rows is empty: refused like a file of zero bytes, so
    a load never "succeeds" with nothing. (A Parquet file with no rows is a well-formed
    file of a quiet period, as sliced and scheduled exports write them: it loads nothing.)"""
    try:
        has_rows = con.execute(f"select 1 from {source} limit 1").fetchone() is not None
    except duckdb.Error as error:
        raise RefusedFile(f"{path}: cannot be read: {str(error).strip().splitlines()[0] if str(error).strip() else error}", path) from error
    if not has_rows:
        raise RefusedFile(f"{path}: the file is empty (a header, no rows); expected events in the {table} contract's columns", path)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table, columns in CONTRACT.items():
        column_sql = ", ".join(f"{quote_ident(name)} varchar" for name, _ in columns)
        con.execute(f"create table if not exists {RAW_SCHEMA}.{table} ({column_sql}, {METADATA_COLUMNS})")
    con.execute(
        f"create table if not exists {AUDIT_TABLE} (load_id varchar, table_name varchar, source_file varchar,"
        " file_sha256 varchar, row_count bigint, loaded_at timestamp)"
    )


def check_files(table: str, files: list[Path], file_format: str | None = None) -> list[PreparedFile]:
    """Checks every file against the table's contract without opening the warehouse;
    raises RefusedFile (naming the file) on the first that does not fit."""
    probe = duckdb.connect()
    try:
        return [prepare(probe, table, path.resolve(), file_format) for path in files]
    finally:
        probe.close()


def append_rows(
    con: duckdb.DuckDBPyConnection, table: str, select_sql: str, load_id: str, source_file: str, loaded_at_text: str
) -> int:
    """Appends the rows of `select_sql` (the table's contract columns, as text) to a raw
    table with the load metadata; an absent or empty `ingested_at` becomes the load time."""
    columns = [name for name, _ in CONTRACT[table]]
    column_list = ", ".join(quote_ident(c) for c in columns)
    values = ", ".join(
        f"coalesce(nullif(trim({quote_ident(c)}), ''), {quote_literal(loaded_at_text)})" if c == "ingested_at" else quote_ident(c)
        for c in columns
    )
    count_row = con.execute(
        f"insert into {RAW_SCHEMA}.{table} ({column_list}, _load_id, _source_file, _loaded_at) "
        f"select {values}, ?, ?, cast(? as timestamp) from ({select_sql})",
        [load_id, source_file, loaded_at_text],
    ).fetchone()
    return int(count_row[0]) if count_row else 0


def load(warehouse: Path, table: str, files: list[Path], file_format: str | None, quiet: bool) -> int:
    # Every file is checked before the warehouse is even opened: a refused load leaves no
    # trace, not even an empty warehouse file.
    return load_prepared(warehouse, table, check_files(table, files, file_format), quiet)


def load_prepared(warehouse: Path, table: str, prepared: list[PreparedFile], quiet: bool,
                  before_commit: Callable[[list[Path]], None] | None = None) -> int:
    """Appends files already checked by check_files, in one transaction. `before_commit`
    (the watch service's "is every file still as it was taken?") runs last inside the
    transaction: if it raises, nothing of this load is committed."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), config=settings.WAREHOUSE_CONFIG)
    try:
        ensure_tables(con)
        load_id = uuid.uuid4().hex
        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        # Strictly increasing from load to load even if the clock steps back: incremental
        # models pick up new rows with `_loaded_at > max(_loaded_at)` and first arrival wins.
        latest = con.execute(f"select max(loaded_at) from {AUDIT_TABLE}").fetchone()
        if latest and latest[0] is not None and latest[0] >= loaded_at:
            loaded_at = latest[0] + timedelta(microseconds=1)
        loaded_at_text = loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f")
        total = 0
        con.execute("begin transaction")
        try:
            for index, item in enumerate(prepared, start=1):
                seen = con.execute(
                    f"select count(*) from {AUDIT_TABLE} where table_name = ? and file_sha256 = ?", [table, item.sha256]
                ).fetchone()
                if seen and seen[0]:
                    print(f"[{index}/{len(prepared)}] {item.path}: already loaded into {table} (same content), skipped")
                    continue
                started = time.perf_counter()
                rows = append_rows(con, table, item.select_sql, load_id, str(item.path), loaded_at_text)
                con.execute(
                    f"insert into {AUDIT_TABLE} values (?, ?, ?, ?, ?, cast(? as timestamp))",
                    [load_id, table, str(item.path), item.sha256, rows, loaded_at_text],
                )
                total += rows
                if not quiet:
                    seconds = time.perf_counter() - started
                    rate = rows / seconds if seconds > 0 else float("inf")
                    print(f"[{index}/{len(prepared)}] {item.path}: {rows:,} rows in {seconds:.2f} s ({rate:,.0f} rows/s)")
            if before_commit is not None:
                before_commit([item.path for item in prepared])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        print(f"loaded {total:,} rows into {RAW_SCHEMA}.{table} (load {load_id})")
        return 0
    finally:
        con.close()


def next_loaded_at(latest: datetime | None) -> datetime:
    """The load time, strictly after every earlier load's even if the clock steps back:
    incremental models pick up new rows with `_loaded_at > max(_loaded_at)`."""
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    if latest is not None and latest >= loaded_at:
        loaded_at = latest + timedelta(microseconds=1)
    return loaded_at


def rows_select(table: str, prepared: list[PreparedFile], load_id: str, loaded_at_text: str, nul_replacement: str | None = None) -> str:
    """One select of every prepared file's rows, in the raw table's column order, with the
    load metadata columns (_loaded_at as a UTC timestamp)."""
    columns = [name for name, _ in CONTRACT[table]]
    parts = []
    for item in prepared:
        values = []
        for c in columns:
            value = quote_ident(c)
            if c == "ingested_at":
                value = f"coalesce(nullif(trim({value}), ''), {quote_literal(loaded_at_text)})"
            if nul_replacement is not None:
                value = f"replace({value}, chr(0), {nul_replacement})"
            values.append(f"{value} as {quote_ident(c)}")
        parts.append(
            f"select {', '.join(values)}, {quote_literal(load_id)} as _load_id, {quote_literal(str(item.path))} as _source_file, "
            f"cast({quote_literal(loaded_at_text)} as timestamp) as _loaded_at from ({item.select_sql})"
        )
    return " union all ".join(parts)


LAKE_AUDIT_KEY = "messaging_warehouse_load"


def lake_table_dir(lake: Path, table: str) -> Path:
    return lake / RAW_SCHEMA / table


def lake_audit(con: duckdb.DuckDBPyConnection, lake: Path, table: str) -> list[dict]:
    """Every load of a lake table, read from its files' Parquet metadata."""
    folder = lake_table_dir(lake, table)
    if not any(folder.glob("*.parquet")):
        return []
    rows = con.execute(
        "select value from parquet_kv_metadata(?) where decode(key) = ?", [str(folder / "*.parquet"), LAKE_AUDIT_KEY]
    ).fetchall()
    return [json.loads(bytes(value).decode() if not isinstance(value, str) else value) for (value,) in rows]


def load_lake(lake: Path, table: str, prepared: list[PreparedFile], quiet: bool) -> int:
    """Writes the new files' rows as one Parquet file of the lake table, atomically."""
    folder = lake_table_dir(lake, table)
    folder.mkdir(parents=True, exist_ok=True)
    with (lake / ".load.lock").open("w") as lock:
        # One loader at a time per lake: the "already loaded" check and the write are one step.
        fcntl.flock(lock, fcntl.LOCK_EX)
        con = duckdb.connect()
        try:
            con.execute("set TimeZone = 'UTC'")
            audit = lake_audit(con, lake, table)
            seen = {sha for load in audit for sha in load["files"].values()}
            latest = max((datetime.fromisoformat(load["loaded_at"]) for load in audit), default=None)
            new = []
            for index, item in enumerate(prepared, start=1):
                if item.sha256 in seen:
                    print(f"[{index}/{len(prepared)}] {item.path}: already loaded into {table} (same content), skipped")
                    continue
                seen.add(item.sha256)
                new.append(item)
            if not new:
                print(f"loaded 0 rows into the lake's {RAW_SCHEMA}.{table}")
                return 0
            load_id = uuid.uuid4().hex
            loaded_at = next_loaded_at(latest)
            loaded_at_text = loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f")
            started = time.perf_counter()
            metadata = json.dumps({"load_id": load_id, "loaded_at": loaded_at.isoformat(), "files": {str(i.path): i.sha256 for i in new}})
            temporary = folder / f".{load_id}.parquet.tmp"
            final = folder / f"{loaded_at.strftime('%Y%m%dT%H%M%S%f')}-{load_id}.parquet"
            select = rows_select(table, new, load_id, loaded_at_text).replace(
                "as timestamp) as _loaded_at", "as timestamptz) as _loaded_at"
            )
            con.execute(
                f"copy ({select}) to {quote_literal(str(temporary))} "
                f"(format parquet, kv_metadata {{{LAKE_AUDIT_KEY}: {quote_literal(metadata)}}})"
            )
            rows = con.execute(f"select count(*) from read_parquet({quote_literal(str(temporary))})").fetchone()[0]
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            if not quiet:
                print(f"{final}: {rows:,} rows in {time.perf_counter() - started:.2f} s")
            print(f"loaded {rows:,} rows into the lake's {RAW_SCHEMA}.{table} (load {load_id})")
            return 0
        finally:
            con.close()


def postgres_connect():  # type: ignore[no-untyped-def]
    """A connection to the PostgreSQL target of profiles.yml (the same DBT_PG_* variables)."""
    import psycopg2  # only needed here: installed with dbt-postgres (requirements-engines.txt)

    return psycopg2.connect(
        host=os.environ.get("DBT_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("DBT_PG_PORT", "5432")),
        user=os.environ.get("DBT_PG_USER", "postgres"),
        password=os.environ.get("DBT_PG_PASSWORD", ""),
        dbname=os.environ.get("DBT_PG_DBNAME", "warehouse"),
    )


def load_postgres(table: str, prepared: list[PreparedFile], quiet: bool) -> int:
    """Appends the new files' rows to the PostgreSQL raw table in one transaction."""
    import tempfile

    pg = postgres_connect()
    con = duckdb.connect()
    try:
        with pg, pg.cursor() as cursor:
            cursor.execute(f"create schema if not exists {RAW_SCHEMA}")
            for name, columns in CONTRACT.items():
                column_sql = ", ".join(f"{quote_ident(c)} text" for c, _ in columns)
                cursor.execute(
                    f"create table if not exists {RAW_SCHEMA}.{name} ({column_sql}, _load_id text, _source_file text, _loaded_at timestamp)"
                )
            cursor.execute(
                f"create table if not exists {AUDIT_TABLE} (load_id text, table_name text, source_file text,"
                " file_sha256 text, row_count bigint, loaded_at timestamp)"
            )
        with pg, pg.cursor() as cursor:
            # One loader at a time: the "already loaded" check and the insert are one step.
            cursor.execute(f"lock table {AUDIT_TABLE} in exclusive mode")
            cursor.execute(f"select max(loaded_at) from {AUDIT_TABLE}")
            loaded_at = next_loaded_at(cursor.fetchone()[0])
            loaded_at_text = loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f")
            load_id = uuid.uuid4().hex
            columns = [name for name, _ in CONTRACT[table]] + ["_load_id", "_source_file", "_loaded_at"]
            total = 0
            for index, item in enumerate(prepared, start=1):
                cursor.execute(f"select count(*) from {AUDIT_TABLE} where table_name = %s and file_sha256 = %s", [table, item.sha256])
                if cursor.fetchone()[0]:
                    print(f"[{index}/{len(prepared)}] {item.path}: already loaded into {table} (same content), skipped")
                    continue
                started = time.perf_counter()
                with tempfile.TemporaryDirectory() as scratch:
                    csv_path = Path(scratch) / "rows.csv"
                    select = rows_select(table, [item], load_id, loaded_at_text, nul_replacement="chr(1)")
                    con.execute(
                        f"copy ({select}) to {quote_literal(str(csv_path))} (format csv, header false, force_quote *)"
                    )
                    with csv_path.open("r", encoding="utf-8") as handle:
                        cursor.copy_expert(
                            f"copy {RAW_SCHEMA}.{table} ({', '.join(quote_ident(c) for c in columns)}) from stdin with (format csv)", handle
                        )
                    rows = cursor.rowcount
                cursor.execute(
                    f"insert into {AUDIT_TABLE} values (%s, %s, %s, %s, %s, %s)",
                    [load_id, table, str(item.path), item.sha256, rows, loaded_at_text],
                )
                total += rows
                if not quiet:
                    print(f"[{index}/{len(prepared)}] {item.path}: {rows:,} rows in {time.perf_counter() - started:.2f} s")
        print(f"loaded {total:,} rows into PostgreSQL {RAW_SCHEMA}.{table} (load {load_id})")
        return 0
    finally:
        con.close()
        pg.close()
