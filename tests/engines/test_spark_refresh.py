"""The live refresh on Spark publishes what DuckDB's publishes, and a reader of the Spark
tables during it sees each table as it was before the refresh or as it is after it.

Generated events in two slices of arrival time. On each engine, the first slice is loaded
and built (models only) and published; then the second slice is refreshed with
`tally refresh` as the README writes it (`--target spark` on Spark), at the same report
instant. The two serving files must hold the same relations with the same rows (every
mart, the large facts' day files and delta included; load times and the publish status
aside) and the same period functions returning the same rows over several ranges.

While Spark's refresh runs (its dbt merges the second slice into the facts, one MERGE and
one commit per fact on Delta, and re-creates the live marts), a second Spark session in
this process (its own JVM, as a BI tool on the Thrift server or another job would be) reads
the tables by path over and over, taking a fingerprint of each read: its row count and the
sum of a hash of every row. Every fingerprint must be the table's before the refresh or
after it; and the reads must have crossed the commits (a table seen in both states), or the
test proved nothing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb

from conftest import DBT, LOAD_TIME_COLUMNS, TALLY, DuckDBEngine, SparkEngine, compare_relation, generate_slices, log, run
from tally.delta_log import read_table

AS_OF = ["2026-11-03 00:00:00", "2026-11-04 06:00:00"]
# Incremental facts (one MERGE each per run) and a live mart rebuilt whole (CREATE OR REPLACE).
TABLES = [
    "fct_message_hours",
    "fct_messages",
    "fct_delivery_hours",
    "fct_deliveries",
    "live_delivery_statistics",
]
MODELS_ONLY = ["--exclude", "resource_type:test", "resource_type:unit_test"]
# Ranges the period functions are called on, in both serving files.
FUNCTION_RANGES = [
    ("2026-11-02", "2026-11-04", "Europe/Paris"),
    ("2026-11-03 05:00:00", None, "UTC"),
]
RAW_TABLES = ["campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"]


def reader_session(work: Path):  # type: ignore[no-untyped-def]
    """A Spark session of its own, reading Delta tables by path (no metastore)."""
    from pyspark.sql import SparkSession

    jars = ",".join(str(p) for p in sorted((Path(DBT).parents[1] / "jars").glob("*.jar")))
    return (
        SparkSession.builder.master("local[1]")
        .appName("reader")
        .config("spark.jars", jars)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.warehouse.dir", str(work / "reader-warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={work / 'reader-derby'}")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def fingerprint(spark, path: Path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    row = spark.sql(f"select count(*), cast(sum(cast(xxhash64(*) as decimal(38, 0))) as string) from delta.`{path}`").collect()[0]
    return int(row[0]), str(row[1])


def refresh_command(folder: Path, as_of: str, *target: str) -> list[str]:
    files = [str(folder / f"{table}.parquet") for table in RAW_TABLES if (folder / f"{table}.parquet").exists()]
    return [*TALLY, "refresh", *target, "--report-as-of", as_of, *files]


def result(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(sql, parameters or [])
    return [d[0] for d in cursor.description], cursor.fetchall()


def read_serving(path: Path) -> tuple[dict[str, tuple[list[str], list[tuple]]], dict[str, tuple[list[str], list[tuple]]]]:
    """What a serving file gives BI: every relation of `marts` with its rows, and every
    period function's rows over FUNCTION_RANGES."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        _, names = result(con, "select table_name from information_schema.tables where table_schema = 'marts'")
        relations = {name: result(con, f'select * from marts."{name}"') for (name,) in names}
        _, functions = result(
            con,
            "select distinct function_name from duckdb_functions() where schema_name = 'marts' "
            "and function_type = 'table_macro' and function_name like 'period_%_between'",
        )
        calls = {
            f"{name}({start}, {end}, {zone})": result(
                con, f"select * from marts.{name}(?, ?, report_timezone := ?)", [start, end, zone]
            )
            for (name,) in functions
            for start, end, zone in FUNCTION_RANGES
        }
        return relations, calls
    finally:
        con.close()


def test_spark_refresh_publishes_duckdbs_marts_and_readers_see_whole_versions(tmp_path: Path) -> None:
    data = tmp_path / "events"
    generate_slices(data, 20_000, 2, 5)
    first, second = data / "slice_001", data / "slice_002"
    duck = DuckDBEngine(tmp_path / "duckdb")
    spark = SparkEngine(tmp_path / "spark", tmp_path / "lake")
    for engine in (duck, spark):
        engine.load(first, "parquet")
        engine.dbt(["build", *MODELS_ONLY, "--vars", f'{{report_as_of: "{AS_OF[0]}"}}'])
    # A first publish on each, so the refresh's publish writes only what changed.
    run([*TALLY, "publish"], duck.env())
    run([*TALLY, "publish", "--target", "spark"], spark.env())
    run(refresh_command(second, AS_OF[1]), duck.env())

    folder = tmp_path / "spark" / "spark" / "tables" / "marts.db"
    reader = reader_session(tmp_path)
    try:
        before = {table: fingerprint(reader, folder / table) for table in TABLES}
        seen: dict[str, list[tuple[int, str]]] = {table: [] for table in TABLES}
        # Output to a file: a pipe nobody reads until the end fills up and stalls the refresh.
        output_path = tmp_path / "spark-refresh.log"
        with output_path.open("w") as output_file:
            refresh = subprocess.Popen(
                refresh_command(second, AS_OF[1], "--target", "spark"),
                env=spark.env(),
                stdout=output_file,
                stderr=subprocess.STDOUT,
                text=True,
            )
        started = time.perf_counter()
        rounds = 0
        while refresh.poll() is None:
            for table in TABLES:
                seen[table].append(fingerprint(reader, folder / table))
            rounds += 1
            # Leave the refresh a core: a reader that never pauses starves it on 2 cores.
            time.sleep(0.5)
        refresh.wait()
        output = output_path.read_text()
        assert refresh.returncode == 0, output[-6000:]
        log(f"Spark refresh in {time.perf_counter() - started:.0f} s, {rounds} rounds of reads beside it")
        log("\n".join(line for line in output.splitlines() if line.startswith("  ")))
        after = {table: fingerprint(reader, folder / table) for table in TABLES}
        # The contract's not_null columns are a Delta constraint: a write with a null fails.
        path = folder / "live_delivery_statistics"
        columns = reader.read.format("delta").load(str(path)).columns
        row = ", ".join("cast(null as string) as campaign_id" if c == "campaign_id" else c for c in columns)
        try:
            reader.sql(f"insert into delta.`{path}` select {row} from delta.`{path}` limit 1")
            refused = ""
        except Exception as error:  # noqa: BLE001 - py4j wraps Delta's exception
            refused = str(error)
        # A log Spark checkpointed (every 10 commits) and a DELETE's remove: the reader of
        # Delta logs behind the Spark publish finds the files Spark itself reads.
        small = tmp_path / "checkpointed"
        for number in range(12):
            reader.range(number, number + 1).write.format("delta").mode("append").save(str(small))
        reader.sql(f"delete from delta.`{small}` where id = 3")
        spark_files = {Path(unquote(urlparse(uri).path)) for uri in reader.read.format("delta").load(str(small)).inputFiles()}
    finally:
        reader.stop()
    assert (small / "_delta_log" / "_last_checkpoint").exists(), "Spark wrote no checkpoint: the check proved less"
    assert set(read_table(small).files) == spark_files and len(spark_files) == 11

    mixed = {table: sorted(set(seen[table]) - {before[table], after[table]}) for table in TABLES}
    assert not any(mixed.values()), f"reads that were neither the table before nor after the refresh: {mixed}"
    changed = [table for table in TABLES if before[table] != after[table]]
    assert changed == TABLES, f"the second slice changed only {changed}"
    assert "not_null_columns" in refused, "a null campaign_id was written into a contracted Delta mart"
    crossed = [table for table in TABLES if before[table] in seen[table] and after[table] in seen[table]]
    log(f"tables read in both states during the refresh: {crossed}")
    assert crossed, "no read saw a table both before and after its merge: the reads did not overlap the commits"

    # The serving files: what BI reads.
    expected, expected_functions = read_serving(tmp_path / "duckdb" / "serving.duckdb")
    actual, actual_functions = read_serving(tmp_path / "spark" / "spark" / "serving.duckdb")
    assert sorted(actual) == sorted(expected)
    assert "live_delivery_statistics" in expected and "fct_message_hours" in expected
    differences = {
        name: found
        for name in expected
        if name != "publish_status" and (found := compare_relation(expected[name], actual[name], ignore=LOAD_TIME_COLUMNS))
    }
    assert not differences, f"Spark's serving file differs from DuckDB's: {differences}"
    live_rows = len(expected["live_delivery_statistics"][1])
    assert live_rows > 0, "the live window holds nothing: the comparison of the live marts proved little"
    assert sorted(actual_functions) == sorted(expected_functions) and len(expected_functions) >= 20
    assert sum(len(rows) for _, rows in expected_functions.values()) > 0
    differences = {
        call: found
        for call, rows in expected_functions.items()
        if (found := compare_relation(rows, actual_functions[call], ignore=LOAD_TIME_COLUMNS))
    }
    assert not differences, f"period functions differ between the serving files: {differences}"
    log(
        f"serving files equal: {len(expected)} relations ({live_rows} live delivery rows), {len(expected_functions)} function calls"
    )
