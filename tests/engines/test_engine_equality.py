"""Spark and PostgreSQL build the same marts as DuckDB, row by row and column by column.

For the bundled sample (full `dbt build` with every data, unit and golden test on each
engine, Spark in one JVM) and for 100k generated events (models only: the tests ran on the
sample; Spark on a local cluster, separate executor JVMs, one of them killed during the
build), the same
files are loaded into each engine by the same loader (DuckDB warehouse file, PostgreSQL raw
tables, Spark's Parquet lake), built, and every table of the `marts` schema is compared with
DuckDB's: same columns (Spark's partition columns aside), same rows, every value equal
(floats to 1e-9; load times aside, since each engine's load ran at its own moment). Every
raw event row's outcome (staged, duplicate or rejected, with the same
reasons) is compared too, from the staging base tables.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (
    CLUSTER,
    DBT,
    ENGINE_OWN_MARTS,
    LOAD_TIME_COLUMNS,
    REPO,
    SPARK_ONLY_COLUMNS,
    TALLY,
    DuckDBEngine,
    Engine,
    PostgresEngine,
    SparkEngine,
    compare_relation,
    cpu_seconds,
    executor_processes,
    log,
    project_env,
    run,
)

SAMPLE_VARS = (
    '{report_as_of: "2026-11-04 06:00:00", period_start: "2026-11-02 00:00:00", '
    'period_end: "2026-11-06 00:00:00", golden_sample: true}'
)
GENERATED_VARS = '{report_as_of: "2026-11-03 12:00:00", period_start: "2026-11-02 00:00:00", period_end: "2026-11-04 00:00:00"}'
GENERATED_EVENTS = 100_000
# What each raw row became: compared per base table (load ids and times differ by engine).
OUTCOME_COLUMNS = {
    "base_raw__message_feedback_events": ["event_id", "event_ts_text", "status", "row_status", "rejection_reasons"],
    "base_raw__message_tracking_events": ["event_id", "event_ts_text", "interaction", "row_status", "rejection_reasons"],
    "base_raw__offer_propositions": ["event_id", "event_ts_text", "offer_id", "row_status", "rejection_reasons"],
}


def build_all(engines: list[Engine], folder: Path, suffix: str, build_args: list[str]) -> None:
    for engine in engines:
        engine.load(folder, suffix)
        engine.dbt(["build", *build_args])


def assert_equal_to_duckdb(reference: DuckDBEngine, others: list[Engine]) -> None:
    marts = [t for t in reference.tables("marts") if t not in ENGINE_OWN_MARTS]
    assert "fct_message_hours" in marts and "live_delivery_statistics" in marts and "period_delivery_report" in marts
    problems: dict[str, list[str]] = {}
    compared = 0
    for engine in others:
        engine_marts = set(engine.tables("marts")) - ENGINE_OWN_MARTS
        if engine_marts != set(marts):
            problems[f"{engine.name}: marts"] = [
                f"missing {sorted(set(marts) - engine_marts)}, unexpected {sorted(engine_marts - set(marts))}"
            ]
        for table in marts:
            if table not in engine_marts:
                continue
            found = compare_relation(
                reference.rows("marts", table), engine.rows("marts", table), ignore=SPARK_ONLY_COLUMNS | LOAD_TIME_COLUMNS
            )
            compared += 1
            if found:
                problems[f"{engine.name}: marts.{table}"] = found
        for table, columns in OUTCOME_COLUMNS.items():
            ref_columns, ref_rows = reference.rows("staging", table)
            other_columns, other_rows = engine.rows("staging", table)
            project = lambda cols, rows, columns=columns: (columns, [tuple(row[cols.index(c)] for c in columns) for row in rows])  # noqa: E731
            found = compare_relation(project(ref_columns, ref_rows), project(other_columns, other_rows))
            if found:
                problems[f"{engine.name}: staging.{table}"] = found
    log(f"compared {compared} marts of {len(others)} engines with DuckDB")
    assert not problems, "marts differ from DuckDB's:\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())


def engines_for(tmp_path: Path, postgres_server: dict[str, str], database: str) -> tuple[DuckDBEngine, list[Engine]]:
    return DuckDBEngine(tmp_path / "duckdb"), [
        PostgresEngine(tmp_path / "postgres", postgres_server, database),
        SparkEngine(tmp_path / "spark", tmp_path / "lake"),
    ]


def test_sample_builds_and_tests_pass_and_marts_equal_duckdb(tmp_path: Path, postgres_server: dict[str, str]) -> None:
    reference, others = engines_for(tmp_path, postgres_server, "sample")
    build_all([reference, *others], REPO / "data" / "sample", "csv", ["--vars", SAMPLE_VARS])
    assert_equal_to_duckdb(reference, others)


def test_generated_events_marts_equal_duckdb(tmp_path: Path, postgres_server: dict[str, str]) -> None:
    data = tmp_path / "events"
    run(
        [
            *TALLY,
            "generate",
            "--events",
            str(GENERATED_EVENTS),
            "--days",
            "3",
            "--seed",
            "23",
            "--format",
            "parquet",
            "--out",
            str(data),
        ],
        project_env(),
    )
    reference = DuckDBEngine(tmp_path / "duckdb")
    postgres = PostgresEngine(tmp_path / "postgres", postgres_server, "generated")
    spark = SparkEngine(tmp_path / "spark", tmp_path / "lake", master=CLUSTER)
    others: list[Engine] = [postgres, spark]
    models_only = ["--exclude", "resource_type:test", "resource_type:unit_test", "--vars", GENERATED_VARS]
    build_all([reference, postgres], data, "parquet", models_only)
    spark.load(data, "parquet")
    build_losing_an_executor(spark, models_only)
    rows = reference.rows("marts", "fct_message_hours")[1]
    assert len(rows) > 50_000, "the generated set should be large enough to exercise every mart"
    assert_equal_to_duckdb(reference, others)
    assert_period_functions_equal(reference, postgres)


# The kill waits for the first large fact (a shuffle of every event), then for an executor
# that is computing: one using CPU now holds running tasks, whose loss Spark must recover.
KILL_AT = "START sql incremental model marts.fct_message_hours"
BUSY_CPU_SECONDS = 0.2  # CPU used in one 0.5 s poll: the executor runs a task
# Spark's words for work lost with an executor: a running task (ExecutorLostFailure), or
# shuffle output a later stage could no longer fetch (FetchFailed: the stage that wrote it
# is run again).
WORK_LOST = ("ExecutorLostFailure", "FetchFailed")


def build_losing_an_executor(spark: SparkEngine, build_args: list[str]) -> None:
    """`dbt build` on a local cluster with an executor JVM killed (SIGKILL) while it runs
    tasks, once the build reaches KILL_AT; then `dbt retry` if a model failed. Spark must
    report work lost with the executor (WORK_LOST): running tasks, or shuffle output that
    lived in the killed JVM, recomputed on the executor the cluster starts in its place. If
    a kill loses no work (the executor had just finished), another busy executor is killed,
    three at most."""
    spark.work.mkdir(parents=True, exist_ok=True)
    output_path = spark.work / "build-losing-an-executor.log"
    # Output to a file: a pipe nobody reads until the end fills up and stalls dbt.
    with output_path.open("w") as output_file:
        build = subprocess.Popen(
            [DBT, "build", *build_args, "--target-path", str(spark.work / "target")],
            cwd=REPO,
            env=spark.env(),
            stdout=output_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    started = time.perf_counter()
    kills: list[int] = []
    executors: dict[int, float] = {}
    last_kill = 0.0
    while build.poll() is None:
        time.sleep(0.5)
        output = output_path.read_text(errors="replace")
        used = {pid: cpu_seconds(pid) for pid in executor_processes(build.pid)}
        busy = [pid for pid, cpu in used.items() if pid in executors and cpu - executors[pid] > BUSY_CPU_SECONDS]
        executors.update(used)
        waited = time.perf_counter() - last_kill > 10
        lost = any(marker in output for marker in WORK_LOST)
        if KILL_AT in output and not lost and len(kills) < 3 and busy and waited:
            os.kill(busy[0], signal.SIGKILL)
            kills.append(busy[0])
            last_kill = time.perf_counter()
            log(f"killed busy executor process {busy[0]} of {sorted(used)} at {last_kill - started:.0f} s")
    output = output_path.read_text(errors="replace")
    log(
        f"dbt build on {CLUSTER}: exit {build.returncode} in {time.perf_counter() - started:.0f} s, executor processes {sorted(executors)}"
    )
    assert kills, f"the build ended before an executor could be killed:\n{output[-4000:]}"
    lost_work = [line for line in output.splitlines() if any(marker in line for marker in WORK_LOST)]
    assert lost_work, f"no work was lost with a killed executor:\n{output[-4000:]}"
    log(f"{len(lost_work)} report(s) of work lost with an executor, e.g. {lost_work[0][:240]}")
    assert len(executors) > 2, f"no executor replaced the killed one: {sorted(executors)}"
    if build.returncode != 0:
        log("a model failed with the executor: dbt retry")
        spark.dbt(["retry"])


# Ranges for the period functions: whole days, hours inside days, a zone's days, an open
# end, all history; text arguments, as a BI tool passes them.
FUNCTION_RANGES = [
    ("2026-11-02", "2026-11-03", "UTC"),
    ("2026-11-02 05:00:00", "2026-11-03 17:00:00", "UTC"),
    ("2026-11-02", "2026-11-04", "Europe/Paris"),
    ("2026-11-02 22:00:00+00", None, "America/New_York"),
    (None, None, "UTC"),
]
# The same with typed bounds, as SQL literals both engines read alike (on PostgreSQL each
# type is its own overload).
TYPED_RANGES = [
    ("date '2026-11-02'", "date '2026-11-04'", "Europe/Paris"),
    ("timestamp '2026-11-02 05:00:00'", "timestamp '2026-11-03 17:00:00'", "UTC"),
    ("timestamptz '2026-11-02 22:00:00+00'", "timestamptz '2026-11-03 22:00:00+00'", "America/New_York"),
]


def assert_period_functions_equal(reference: DuckDBEngine, postgres: PostgresEngine) -> None:
    """Every period_*_between function on PostgreSQL returns DuckDB's rows, range by range."""
    names = [row[0] for row in reference._query("select function_name from marts.period_table_functions")[1]]
    functions = [name for name in names if name.endswith("_between")]
    assert len(functions) >= 10, functions
    # Each range as one call on each engine: (label, DuckDB's arguments, PostgreSQL's, their
    # bound parameters): text bounds as parameters, typed bounds as literals.
    calls = [
        ((start, end, zone), "?, ?, report_timezone := ?", "%s, %s, %s", [start, end, zone])
        for start, end, zone in FUNCTION_RANGES
    ]
    calls += [
        ((start, end, zone), f"{start}, {end}, report_timezone := '{zone}'", f"{start}, {end}, '{zone}'", [])
        for start, end, zone in TYPED_RANGES
    ]
    problems = {}
    rows_per_range = {label: 0 for label, *_ in calls}
    for function in functions:
        for label, duckdb_arguments, postgres_arguments, parameters in calls:
            expected = reference._query(f"select * from marts.{function}({duckdb_arguments})", parameters)
            actual = postgres._query(f"select * from marts.{function}({postgres_arguments})", parameters)
            rows_per_range[label] += len(expected[1])
            found = compare_relation(expected, actual)
            if found:
                problems[f"{function}{label}"] = found
    log(f"compared {len(functions)} period functions over {len(rows_per_range)} ranges, PostgreSQL with DuckDB: {rows_per_range}")
    # An empty range would compare nothing: every range must hold rows on DuckDB.
    assert all(rows_per_range.values()), rows_per_range
    assert not problems, "period functions differ from DuckDB's:\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())


@pytest.mark.parametrize("broken", ["postgres"])
def test_a_difference_is_reported(tmp_path: Path, postgres_server: dict[str, str], broken: str) -> None:
    """The comparison itself is not blind: one changed value in one mart is reported."""
    reference = DuckDBEngine(tmp_path / "duckdb")
    other = PostgresEngine(tmp_path / "postgres", postgres_server, "difference")
    for engine in (reference, other):
        engine.load(REPO / "data" / "sample", "csv")
        engine.dbt(
            [
                "build",
                "--select",
                "+live_delivery_statistics",
                "--exclude",
                "resource_type:test",
                "resource_type:unit_test",
                "--vars",
                SAMPLE_VARS,
            ]
        )
    other._query(
        "update marts.live_delivery_statistics set open_rate = open_rate + 0.000001 where open_rate is not null "
        "and execution_id = (select min(execution_id) from marts.live_delivery_statistics where open_rate is not null) "
        "returning 1"
    )
    found = compare_relation(reference.rows("marts", "live_delivery_statistics"), other.rows("marts", "live_delivery_statistics"))
    assert found and "open_rate" in found[0]
