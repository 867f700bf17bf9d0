"""The lake destination (`tally load --lake DIR`): the raw tables as Parquet files of a lake
folder, DIR/raw/<table>/*.parquet, which Spark (and any engine) reads as the dbt sources.

One invocation writes one file, under a hidden name, then renames it into place: all its
input files land or none. The file carries its own audit (load id, load time, the input
files' SHA-256) in its Parquet key-value metadata, so "already loaded" is read from the
lake itself and the data and its audit can never disagree. DuckDB is only the in-process
file reader and writer here.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from tally.common import quote_literal
from tally.contract import RAW_SCHEMA
from tally.load.flat import LOADED_AT_FORMAT, PreparedFile, next_loaded_at, rows_select

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


def load_lake(
    lake: Path,
    table: str,
    prepared: list[PreparedFile],
    quiet: bool,
    before_commit: Callable[[list[Path]], None] | None = None,
) -> int:
    """Writes the new files' rows as one Parquet file of the lake table, atomically.
    `before_commit(paths)` runs just before the rename (the watch service's last look at
    the input files); an exception from it leaves the lake as it was."""
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
            loaded_at_text = loaded_at.strftime(LOADED_AT_FORMAT)
            started = time.perf_counter()
            metadata = json.dumps(
                {"load_id": load_id, "loaded_at": loaded_at.isoformat(), "files": {str(i.path): i.sha256 for i in new}}
            )
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
            try:
                if before_commit is not None:
                    before_commit([item.path for item in prepared])
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
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
