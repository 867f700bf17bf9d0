"""Helpers for the cross-engine tests: build the same events on DuckDB, PostgreSQL and Spark
and read every mart back as rows.

Run by `make test-engines` with .venv-engines (dbt-duckdb, dbt-postgres, dbt-spark and
PySpark side by side). Spark's tables are Delta tables (or Parquet ones with
spark_file_format: parquet) under its work folder: they are read back with DuckDB, the
Parquet files of the table's current version as its Delta log lists them, so no second
Spark session (nor its Derby metastore lock) is needed.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tally.delta_log import is_delta_table, read_table

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TALLY = [PYTHON, "-m", "tally"]
DBT = str(Path(PYTHON).with_name("dbt"))
RAW_TABLES = ["campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"]
# Partition columns of the large facts, present on Spark only (dbt_project.yml, partition_by).
SPARK_ONLY_COLUMNS = {"activity_date", "first_event_date"}
# Marts whose rows differ by engine on purpose: the catalog of table functions lists each
# engine's own signatures (DuckDB's table macros, PostgreSQL's functions, none on Spark).
ENGINE_OWN_MARTS = {"period_table_functions"}
# When the rows were loaded: each engine's loader ran at its own moment, so these differ by
# design (their role, the incremental watermark, is checked by the incremental tests).
LOAD_TIME_COLUMNS = {"last_loaded_at", "newest_loaded_at", "message_last_loaded_at", "hour_last_loaded_at"}
TOLERANCE = 1e-9


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def project_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    if args[0] == DBT:
        log(f"dbt {args[1]} --target {env.get('DBT_TARGET', 'dev')}: {time.perf_counter() - started:.0f} s")
    return result


def generate_slices(folder: Path, events: int, slices: int, seed: int, days: int = 3) -> None:
    """Generated events in `slices` successive loads by arrival time, Parquet, under folder/slice_NNN."""
    arguments = ["--events", str(events), "--days", str(days), "--slices", str(slices), "--seed", str(seed)]
    run([*TALLY, "generate", *arguments, "--format", "parquet", "--out", str(folder)], project_env())


class Engine:
    """One engine's warehouse for one data set: load, dbt, read the marts back."""

    name = ""

    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def load(self, folder: Path, suffix: str) -> None:
        for table in RAW_TABLES:
            path = folder / f"{table}.{suffix}"
            if path.exists():
                run([*TALLY, "load", "--quiet", *self.loader_args(), "--table", table, str(path)], self.env())

    def loader_args(self) -> list[str]:
        return []

    def dbt(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return run([DBT, *args, "--target-path", str(self.work / "target")], self.env())

    def tables(self, schema: str) -> list[str]:
        raise NotImplementedError

    def rows(self, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        raise NotImplementedError


class DuckDBEngine(Engine):
    name = "duckdb"

    def env(self) -> dict[str, str]:
        return project_env(DBT_TARGET="dev", WAREHOUSE_PATH=str(self.work / "warehouse.duckdb"))

    def _query(self, sql: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        con = duckdb.connect(str(self.work / "warehouse.duckdb"), read_only=True)
        try:
            cursor = con.execute(sql, parameters or [])
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()

    def tables(self, schema: str) -> list[str]:
        _, rows = self._query(
            "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' order by 1",
            [schema],
        )
        return [row[0] for row in rows]

    def rows(self, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self._query(f'select * from "{schema}"."{table}"')


class PostgresEngine(Engine):
    name = "postgres"

    def __init__(self, work: Path, server: dict[str, str], database: str) -> None:
        super().__init__(work)
        self.server = server
        self.database = database
        import psycopg2

        admin = psycopg2.connect(**self._params("postgres"))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {database}")
            cursor.execute(f"create database {database}")
        admin.close()

    def _params(self, database: str) -> dict[str, Any]:
        return {
            "host": self.server["DBT_PG_HOST"],
            "port": int(self.server["DBT_PG_PORT"]),
            "user": self.server["DBT_PG_USER"],
            "dbname": database,
        }

    def env(self) -> dict[str, str]:
        return project_env(DBT_TARGET="postgres", **{**self.server, "DBT_PG_DBNAME": self.database})

    def loader_args(self) -> list[str]:
        return ["--postgres"]

    def _query(self, sql: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        import psycopg2

        con = psycopg2.connect(**self._params(self.database))
        try:
            with con, con.cursor() as cursor:  # commits on success
                cursor.execute(sql, parameters or [])
                return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()

    def tables(self, schema: str) -> list[str]:
        _, rows = self._query(
            "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE' order by 1",
            [schema],
        )
        return [row[0] for row in rows]

    def rows(self, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self._query(f'select * from "{schema}"."{table}"')


class SparkEngine(Engine):
    """Spark session; raw sources from the Parquet lake `lake`; tables in work/spark. `master`
    is the profile's default (local[2], one JVM) or another master, such as CLUSTER."""

    name = "spark"

    def __init__(self, work: Path, lake: Path, master: str | None = None) -> None:
        super().__init__(work)
        self.lake = lake
        self.master = master

    def env(self) -> dict[str, str]:
        env = project_env(DBT_TARGET="spark", SPARK_WORK_DIR=str(self.work / "spark"), LAKE_PATH=str(self.lake))
        if self.master:
            env["SPARK_MASTER"] = self.master
        return env

    def loader_args(self) -> list[str]:
        return ["--lake", str(self.lake)]

    def _folder(self, schema: str) -> Path:
        return self.work / "spark" / "tables" / f"{schema}.db"

    def tables(self, schema: str) -> list[str]:
        folder = self._folder(schema)
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.endswith(("__dbt_batch", "__dbt_rebuilt")))

    def rows(self, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        files = [str(p) for p in table_files(self._folder(schema) / table)]
        if not files:
            return [], []
        con = duckdb.connect()
        try:
            con.execute("set TimeZone = 'UTC'")
            cursor = con.execute("select * from read_parquet(?, hive_partitioning = true, union_by_name = true)", [files])
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()


# Spark's local-cluster master: two workers of 1 core and 1024 MB, each running its executor
# in a JVM of its own, so a shuffle crosses processes (serialised, over the network stack)
# as on a real cluster, and an executor can be lost.
CLUSTER = "local-cluster[2,1,1024]"


def executor_processes(root: int) -> list[int]:
    """Process ids of the Spark executors below process `root` (local-cluster's workers run
    in the driver's JVM and start each executor as a child process)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = stat_fields(int(entry.name))
        try:
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            fields = []
        if not fields:
            continue  # the process ended while it was read
        parent = int(fields[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            stack.append(child)
            if "CoarseGrainedExecutorBackend" in commands.get(child, ""):
                found.append(child)
    return sorted(found)


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, parent, ..., utime at
    11, stime at 12); empty once the process has ended."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 once it has ended."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def table_files(table: Path) -> list[Path]:
    """The Parquet files holding a Spark table's rows now: its Delta log's (replayed by
    tally.delta_log, as the Spark refresh's publish reads them), or, for a plain Parquet
    table, every visible Parquet file in its folder."""
    if is_delta_table(table):
        return read_table(table).files
    return [p for p in table.rglob("*.parquet") if not p.name.startswith((".", "_"))]


def normalise(value: Any) -> Any:
    """One Python value per SQL value, whatever the engine's driver returned."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def sort_key(row: tuple[Any, ...]) -> tuple[str, ...]:
    parts = []
    for value in row:
        if value is None:
            parts.append("\x00")
        elif isinstance(value, float):
            parts.append("nan" if math.isnan(value) else f"{value:.6e}")
        else:
            parts.append(str(value))
    return tuple(parts)


def values_equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        try:
            return abs(float(left) - float(right)) <= TOLERANCE * max(1.0, abs(float(left)))
        except (TypeError, ValueError):
            return False
    if isinstance(left, date) and isinstance(right, date):
        return left == right
    return left == right


def compare_relation(
    reference: tuple[list[str], list[tuple[Any, ...]]],
    other: tuple[list[str], list[tuple[Any, ...]]],
    ignore: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    """Differences between two relations, row by row and column by column (rates to 1e-9):
    an empty list when they are equal."""
    ref_columns, ref_rows = reference
    other_columns, other_rows = other
    if not other_columns and not other_rows:
        return [] if not ref_rows else [f"no rows, expected {len(ref_rows)}"]
    wanted = [c for c in ref_columns if c not in ignore]
    missing = [c for c in wanted if c not in other_columns]
    extra = [c for c in other_columns if c not in ref_columns and c not in ignore]
    if missing or extra:
        return [f"columns differ: missing {missing}, unexpected {extra}"]
    ref_index = [ref_columns.index(c) for c in wanted]
    other_index = [other_columns.index(c) for c in wanted]
    left = sorted((tuple(normalise(row[i]) for i in ref_index) for row in ref_rows), key=sort_key)
    right = sorted((tuple(normalise(row[i]) for i in other_index) for row in other_rows), key=sort_key)
    if len(left) != len(right):
        return [f"{len(right)} rows, expected {len(left)}"]
    problems = []
    for number, (expected, actual) in enumerate(zip(left, right, strict=False)):
        for column, a, b in zip(wanted, expected, actual, strict=False):
            if not values_equal(a, b):
                key = dict(list(zip(wanted, expected, strict=False))[:5])
                problems.append(f"row {number} ({key}...): {column} = {b!r}, expected {a!r}")
                break
        if len(problems) >= 3:
            break
    return problems


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, str]]:
    """A private PostgreSQL server for the session (Debian's postgresql package). Missing
    server programs fail the test in CI (.ci/run installs them) and skip it elsewhere,
    saying why."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        message = "PostgreSQL server programs not installed (apt-get install -y postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Outside pytest's private (0700) temp folder: the server runs as the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="engines-postgres-"))
    folder.chmod(0o755)
    result = run([*TALLY, "postgres", "start", "--dir", str(folder / "cluster")], project_env())
    server = dict(line.removeprefix("export ").split("=", 1) for line in result.stdout.split() if "=" in line)
    try:
        yield server
    finally:
        run([*TALLY, "postgres", "stop", "--dir", str(folder / "cluster")], project_env())
        shutil.rmtree(folder, ignore_errors=True)
