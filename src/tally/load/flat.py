"""The flat layout: raw event files in the contract's columns (CSV with header, Parquet,
NDJSON) appended to the raw tables of the DuckDB warehouse, and the pieces the lake and
PostgreSQL loaders share (the contract check, the select that reads a file as text).
The command and the promises it keeps are in tally.load.command."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from tally import contract, settings
from tally.common import first_line, quote_ident, quote_literal, utc_now
from tally.contract import CONTRACT, RAW_SCHEMA
from tally.load import RefusedFile

AUDIT_TABLE = f"{RAW_SCHEMA}._load_audit"
LOADED_AT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
METADATA_COLUMNS = "_load_id varchar, _source_file varchar, _loaded_at timestamp"
NESTED_TYPES = ("STRUCT", "MAP", "UNION", "[]", "LIST", "ARRAY")
FORMATS = {".csv": "csv", ".parquet": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}


@dataclass
class PreparedFile:
    path: Path
    sha256: str
    select_sql: str


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
        raise RefusedFile(f"{path}: cannot be read as {file_format}: {first_line(error)}", path) from error
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
        raise RefusedFile(
            f"{path}: unknown file type {path.suffix!r}; expected .csv, .parquet, .ndjson or .jsonl (or pass --format)", path
        )
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
            raise RefusedFile(f"{path}: unexpected column {name!r} for table {table}; expected only: {', '.join(expected)}", path)
    for name, required in contract:
        if required and name not in by_name:
            raise RefusedFile(
                f"{path}: missing required column {name!r} for table {table}; expected columns: {', '.join(expected)}", path
            )
    for name, column_type in by_name.values():
        if any(marker in column_type.upper() for marker in NESTED_TYPES):
            raise RefusedFile(
                f"{path}: column {name!r} has type {column_type}; expected a scalar (text, number or timestamp)", path
            )
    if fmt == "ndjson":
        source = reader_sql(path, fmt, [by_name[key][0] for key in by_name])
        types = dict.fromkeys(by_name, "VARCHAR")
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
        raise RefusedFile(
            f"{path}: cannot be read: {str(error).strip().splitlines()[0] if str(error).strip() else error}", path
        ) from error
    if not has_rows:
        raise RefusedFile(
            f"{path}: the file is empty (a header, no rows); expected events in the {table} contract's columns", path
        )


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table, columns in CONTRACT.items():
        column_sql = ", ".join(f"{quote_ident(name)} varchar" for name, _ in columns)
        con.execute(f"create table if not exists {RAW_SCHEMA}.{table} ({column_sql}, {METADATA_COLUMNS})")
        # A warehouse created before an optional column joined the contract gains it,
        # empty for the rows loaded before (raw tables are append-only otherwise).
        for name, _ in columns:
            con.execute(f"alter table {RAW_SCHEMA}.{table} add column if not exists {quote_ident(name)} varchar")
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
    columns = contract.columns(table)
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


def load_prepared(
    warehouse: Path,
    table: str,
    prepared: list[PreparedFile],
    quiet: bool,
    before_commit: Callable[[list[Path]], None] | None = None,
) -> int:
    """Appends files already checked by check_files, in one transaction. `before_commit`
    (the watch service's "is every file still as it was taken?") runs last inside the
    transaction: if it raises, nothing of this load is committed."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), config=settings.WAREHOUSE_CONFIG)
    try:
        ensure_tables(con)
        load_id = uuid.uuid4().hex
        loaded_at_text = load_stamp(con)
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
    incremental models pick up new rows with `_loaded_at > max(_loaded_at)` and first
    arrival wins."""
    loaded_at = utc_now()
    if latest is not None and latest >= loaded_at:
        loaded_at = latest + timedelta(microseconds=1)
    return loaded_at


def load_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """The load time of a load into the warehouse `con` holds (after every load in its
    audit), as the text the raw tables' `_loaded_at` is written from."""
    latest = con.execute(f"select max(loaded_at) from {AUDIT_TABLE}").fetchone()
    return next_loaded_at(latest[0] if latest else None).strftime(LOADED_AT_FORMAT)


def rows_select(
    table: str, prepared: list[PreparedFile], load_id: str, loaded_at_text: str, nul_replacement: str | None = None
) -> str:
    """One select of every prepared file's rows, in the raw table's column order, with the
    load metadata columns (_loaded_at as a UTC timestamp)."""
    columns = contract.columns(table)
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
