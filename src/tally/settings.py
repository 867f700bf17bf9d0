"""Settings every command resolves the same way: which dbt project it works on, where the
working warehouse, the serving file and the refresh log live, and how each is opened.
Imported by the commands; not a command of its own."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

PROJECT_FILE = "dbt_project.yml"


def project_dir() -> Path:
    """The dbt project the commands work on, found the way dbt finds it: $DBT_PROJECT_DIR,
    else the nearest folder holding dbt_project.yml from the current directory up, else the
    checkout this package is installed from (`pip install -e .`)."""
    explicit = os.environ.get("DBT_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / PROJECT_FILE).is_file() else here


REPO_ROOT = project_dir()
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "warehouse.duckdb"
# The working file stays readable by the DuckDB 1.5 builds some tools embed.
WAREHOUSE_CONFIG = {"storage_compatibility_version": "v1.5.0"}
# The serving file is written in an old storage format, so BI drivers embedding
# DuckDB 1.2 to 1.5 (JDBC, ODBC, Node, DBeaver) open it. Not v1.0.0: DuckDB 2.0 updating
# a v1.0.0 catalog in place wrote files 1.4.1 refused (docs/operations.md, "File versions").
SERVING_STORAGE_VERSION = "v1.2.0"


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
