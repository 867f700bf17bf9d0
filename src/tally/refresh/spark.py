"""The live refresh on Spark (`tally refresh --target spark`): what differs from DuckDB's.

* Files load into the Parquet lake Spark reads its sources from (tally.load.lake).
* dbt runs in this process (tally.refresh.session) with the `spark` target, whose `session`
  method starts Spark in this process: the JVM, the session, its metastore connection and
  Delta's snapshot cache are started by the first refresh and reused by every later one
  (`tally watch`), instead of paid again by each.
* The publish reads Spark's marts through a mirror: a small DuckDB catalog, `marts.duckdb`
  in the Spark work folder, whose relations are views over each Delta table's current Parquet
  files (tally.delta_log: the Delta log replayed, no Spark), typed from the table's Delta
  schema, with the dbt descriptions as comments. The publish then runs as on DuckDB: small
  marts copied, the large facts' changed days written. No mart row is copied to build the
  mirror, so its cost follows the number of tables, not the history.
* Spark has no table functions. The mirror gets DuckDB's (period_*_between and their
  catalog) from the project itself: `dbt run --target dev` on the mirror, once per change of
  their definitions. Their bodies read marts.<fact>, which in the mirror, and in the serving
  file, are the Spark facts.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tally import settings
from tally.common import quote_literal
from tally.delta_log import DeltaTable, read_table

MIRROR_SCHEMA = "marts"
# The mirror's own bookkeeping (never published: the publish reads `marts` only).
STATE_SCHEMA = "mirror_state"
# Models the mirror builds itself on DuckDB (the table functions and their catalog): Spark's
# own period_table_functions lists none.
FUNCTIONS_TAG = "serving_functions"
# What defines the table functions: their models and every macro they may call.
FUNCTION_SOURCES = ("models/marts/period/functions", "models/marts/experiments/functions", "macros")
FUNCTION_MODELS = ("models/marts/period/period_table_functions.sql",)


@dataclass
class SparkPaths:
    """Where the Spark target keeps things: the raw lake (`LAKE_PATH`) and the work folder
    (`SPARK_WORK_DIR`: metastore and tables/<schema>.db/<table>), as profiles.yml reads them."""

    lake: Path
    work: Path
    # The mirror's file (`--warehouse`); default: mirror.duckdb in the work folder.
    mirror_file: Path | None = None

    @classmethod
    def from_env(cls) -> SparkPaths:
        root = settings.REPO_ROOT / "warehouse"
        lake = Path(os.environ.get("LAKE_PATH", root / "lake"))
        work = Path(os.environ.get("SPARK_WORK_DIR", root / "spark"))
        return cls(lake.resolve(), work.resolve())

    @property
    def mirror(self) -> Path:
        return self.mirror_file or self.work / "mirror.duckdb"

    def table(self, schema: str, name: str) -> Path:
        return self.work / "tables" / f"{schema}.db" / name

    def export(self) -> None:
        """profiles.yml reads both from the environment; absolute, as Spark resolves a
        relative warehouse folder against the process's working directory."""
        os.environ["LAKE_PATH"] = str(self.lake)
        os.environ["SPARK_WORK_DIR"] = str(self.work)


def published_models(manifest: Any) -> list[Any]:
    """The enabled models of schema `marts` Spark stores as tables, less those the mirror
    builds itself (FUNCTIONS_TAG)."""
    return sorted(
        (
            node
            for node in manifest.nodes.values()
            if node.resource_type == "model"
            and node.schema == MIRROR_SCHEMA
            and node.config.materialized in ("table", "incremental")
            and FUNCTIONS_TAG not in node.tags
        ),
        key=lambda node: node.alias,
    )


def published_columns(table: DeltaTable) -> list[tuple[str, str]]:
    """A table's columns less its partition columns (Spark's file layout; the marts on the
    other engines have no such column)."""
    return [(name, kind) for name, kind in table.columns if name not in table.partition_columns]


def view_sql(table: DeltaTable, con: duckdb.DuckDBPyConnection) -> str:
    """The mirror's view of one Delta table: its current files, its columns in table order
    with their Delta types, less its partition columns (Spark's file layout; the marts on the
    other engines have no such column)."""
    columns = published_columns(table)
    if not table.files:
        select = ", ".join(f'cast(null as {kind}) as "{name}"' for name, kind in columns)
        return f"select {select} where false"
    source = f"read_parquet([{', '.join(quote_literal(str(path)) for path in table.files)}], hive_partitioning = false)"
    # The files' column types from one file: every file of a version has the table's schema,
    # and describing them all would read a footer per file of the history at each change.
    first = f"read_parquet({quote_literal(str(table.files[0]))}, hive_partitioning = false)"
    read = dict(con.execute(f"select column_name, column_type from (describe select * from {first})").fetchall())
    parts = []
    for name, kind in columns:
        if read.get(name) == "TIMESTAMP WITH TIME ZONE":
            # Spark may write instants (TIMESTAMP_MICROS, UTC-adjusted): their UTC wall
            # clock, whatever the reading session's time zone.
            parts.append(f'timezone(\'UTC\', "{name}") as "{name}"')
        elif read.get(name, "").lower() == kind.lower():
            parts.append(f'"{name}"')
        else:
            parts.append(f'cast("{name}" as {kind}) as "{name}"')
    return f"select {', '.join(parts)} from {source}"


def sync_mirror(paths: SparkPaths, manifest: Any) -> str:
    """Brings the mirror's views up to the Spark tables' current versions: a view is
    re-created (with its comments) only when its table has a new Delta version; one for a
    model no longer published is dropped. Returns a summary."""
    paths.mirror.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(paths.mirror), config=settings.WAREHOUSE_CONFIG)
    try:
        con.execute(f"create schema if not exists {MIRROR_SCHEMA}")
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(f"create table if not exists {STATE_SCHEMA}.views (name varchar primary key, version varchar)")
        known = dict(con.execute(f"select name, version from {STATE_SCHEMA}.views").fetchall())
        views = {
            row[0]
            for row in con.execute(
                "select view_name from duckdb_views() where database_name = current_database() and schema_name = ?",
                [MIRROR_SCHEMA],
            ).fetchall()
        }
        models = published_models(manifest)
        con.execute("begin transaction")
        changed = 0
        for node in models:
            folder = paths.table(MIRROR_SCHEMA, node.alias)
            if not (folder / "_delta_log").is_dir():
                continue  # not built on Spark yet (a model the full build makes, not the refresh)
            table = read_table(folder)
            # The folder's version: a table re-created under the same name starts again at 0.
            version = f"{table.version}:{folder.stat().st_ino}:{(folder / '_delta_log').stat().st_ino}"
            if known.get(node.alias) == version and node.alias in views:
                continue
            con.execute(f'create or replace view {MIRROR_SCHEMA}."{node.alias}" as {view_sql(table, con)}')
            comment_view(con, node, {name for name, _ in published_columns(table)})
            con.execute(
                f"insert or replace into {STATE_SCHEMA}.views values (?, ?)",
                [node.alias, version],
            )
            changed += 1
        wanted = {node.alias for node in models}
        for name in sorted(views - wanted):
            con.execute(f'drop view {MIRROR_SCHEMA}."{name}"')
            con.execute(f"delete from {STATE_SCHEMA}.views where name = ?", [name])
        con.execute("commit")
        return f"{changed} of {len(models)} views new"
    finally:
        con.close()


def comment_view(con: duckdb.DuckDBPyConnection, node: Any, present: set[str]) -> None:
    """dbt's descriptions as the view's comments (of its columns, those `present`), which
    the publish carries to BI."""
    name = f'{MIRROR_SCHEMA}."{node.alias}"'
    if node.description:
        con.execute(f"comment on view {name} is {quote_literal(node.description)}")
    for column in node.columns.values():
        if column.description and column.name in present:
            con.execute(f'comment on column {name}."{column.name}" is {quote_literal(column.description)}')


def functions_digest(root: Path) -> str:
    """A digest of every file that defines the table functions."""
    digest = hashlib.sha256()
    files = [path for folder in FUNCTION_SOURCES for path in sorted((root / folder).rglob("*")) if path.is_file()]
    files += [root / path for path in FUNCTION_MODELS]
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_functions(paths: SparkPaths, root: Path) -> bool:
    """Creates DuckDB's table functions and their catalog in the mirror when it has none,
    or when their definitions changed since: `dbt run` of the functions' models with the
    DuckDB target on the mirror (a child process: the refresh's own dbt is on Spark).
    Returns whether it ran."""
    digest = functions_digest(root)
    con = duckdb.connect(str(paths.mirror), config=settings.WAREHOUSE_CONFIG)
    try:
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(f"create table if not exists {STATE_SCHEMA}.functions (digest varchar)")
        row = con.execute(f"select digest from {STATE_SCHEMA}.functions").fetchone()
    finally:
        con.close()
    if row is not None and row[0] == digest:
        return False
    env = dict(
        os.environ,
        DBT_TARGET="dev",
        WAREHOUSE_PATH=str(paths.mirror),
        DBT_PROFILES_DIR=os.environ.get("DBT_PROFILES_DIR", str(root)),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    dbt = str(Path(sys.executable).with_name("dbt"))
    command = [dbt, "--quiet", "--no-write-json", "run", "--select", f"tag:{FUNCTIONS_TAG},resource_type:model"]
    command += ["--target", "dev", "--project-dir", str(root), "--target-path", str(paths.work / "target-mirror")]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"creating the table functions in {paths.mirror} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )
    con = duckdb.connect(str(paths.mirror), config=settings.WAREHOUSE_CONFIG)
    try:
        con.execute(f"delete from {STATE_SCHEMA}.functions")
        con.execute(f"insert into {STATE_SCHEMA}.functions values (?)", [digest])
    finally:
        con.close()
    return True


def stop_spark() -> None:
    """Stops the Spark session dbt started in this process, if any, so its JVM ends with
    the command rather than whenever the interpreter's teardown gets to it."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
