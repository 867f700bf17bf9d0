"""Settings every script resolves the same way: where the working warehouse, the serving
file and the refresh log live, and how each is opened. Imported by the scripts; not a
command of its own."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "warehouse.duckdb"
# The working file stays readable by the DuckDB 1.5 builds some tools embed.
WAREHOUSE_CONFIG = {"storage_compatibility_version": "v1.5.0"}
# The serving file is written in the oldest storage format, so BI drivers embedding
# DuckDB 1.x (JDBC, ODBC, Node, DBeaver) open it.
SERVING_STORAGE_VERSION = "v1.0.0"


def warehouse_path() -> Path:
    """$WAREHOUSE_PATH, else warehouse/warehouse.duckdb in the repository."""
    return Path(os.environ.get("WAREHOUSE_PATH", DEFAULT_WAREHOUSE))


def serving_path(warehouse: Path) -> Path:
    """The published file BI tools open: serving.duckdb beside the working warehouse."""
    return warehouse.with_name("serving.duckdb")


def refresh_log_path(warehouse: Path) -> Path:
    """One JSON line per refresh (published or failed), beside the working warehouse."""
    return warehouse.with_name(warehouse.stem + ".refresh-log.jsonl")


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A short-lived read-only connection, the way every reader should open a file."""
    return duckdb.connect(str(path), read_only=True)
