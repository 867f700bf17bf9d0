"""A reader of the Spark tables during an incremental run sees each table as it was before
the run or as it is after it, never a mix (Delta Lake: one MERGE, one commit per fact).

Generated events in two slices; the first is built, the second loaded; then, while
`dbt build` merges the second slice into the facts in one process, a second Spark session
in this process (its own JVM, as a BI tool on the Thrift server or another job would be)
reads the facts by path over and over, taking a fingerprint of each read: its row count and
the sum of a hash of every row. Every fingerprint read during the run must be the table's
fingerprint before the run or after it; and the reads must have crossed the commits (a
table seen in both states), or the test proved nothing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from conftest import DBT, SparkEngine, generate_slices, log

AS_OF = ["2026-11-03 00:00:00", "2026-11-04 06:00:00"]
# Incremental facts (one MERGE each per run) and a mart rebuilt whole (CREATE OR REPLACE).
TABLES = [
    "fct_message_hours",
    "fct_messages",
    "fct_delivery_hours",
    "fct_deliveries",
    "live_delivery_statistics",
]
MODELS = [
    "--select",
    "+path:models/marts/core",
    "+live_delivery_statistics",
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]


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


def test_a_reader_during_a_merge_sees_the_table_before_or_after(tmp_path: Path) -> None:
    data = tmp_path / "events"
    generate_slices(data, 20_000, 2, 5)
    lake = tmp_path / "lake"
    engine = SparkEngine(tmp_path / "spark", lake)
    engine.load(data / "slice_001", "parquet")
    engine.dbt(["build", *MODELS, "--vars", f'{{report_as_of: "{AS_OF[0]}"}}'])
    engine.load(data / "slice_002", "parquet")

    folder = tmp_path / "spark" / "spark" / "tables" / "marts.db"
    spark = reader_session(tmp_path)
    try:
        before = {table: fingerprint(spark, folder / table) for table in TABLES}
        seen: dict[str, list[tuple[int, str]]] = {table: [] for table in TABLES}
        # Output to a file: a pipe nobody reads until the end fills up and stalls dbt.
        output_path = tmp_path / "incremental-build.log"
        with output_path.open("w") as output_file:
            build = subprocess.Popen(
                [DBT, "build", *MODELS, "--vars", f'{{report_as_of: "{AS_OF[1]}"}}', "--target-path", str(tmp_path / "target")],
                env=engine.env(),
                stdout=output_file,
                stderr=subprocess.STDOUT,
                text=True,
            )
        started = time.perf_counter()
        rounds = 0
        while build.poll() is None:
            for table in TABLES:
                seen[table].append(fingerprint(spark, folder / table))
            rounds += 1
            # Leave the build a core: a reader that never pauses starves it on 2 cores.
            time.sleep(0.5)
        build.wait()
        assert build.returncode == 0, output_path.read_text()[-6000:]
        log(f"{rounds} rounds of reads in {time.perf_counter() - started:.0f} s while dbt merged")
        after = {table: fingerprint(spark, folder / table) for table in TABLES}
        # The contract's not_null columns are a Delta constraint: a write with a null fails.
        path = folder / "live_delivery_statistics"
        columns = spark.read.format("delta").load(str(path)).columns
        row = ", ".join("cast(null as string) as campaign_id" if c == "campaign_id" else c for c in columns)
        try:
            spark.sql(f"insert into delta.`{path}` select {row} from delta.`{path}` limit 1")
            refused = ""
        except Exception as error:  # noqa: BLE001 - py4j wraps Delta's exception
            refused = str(error)
    finally:
        spark.stop()

    mixed = {table: sorted(set(seen[table]) - {before[table], after[table]}) for table in TABLES}
    assert not any(mixed.values()), f"reads that were neither the table before nor after the run: {mixed}"
    changed = [table for table in TABLES if before[table] != after[table]]
    assert changed == TABLES, f"the second slice changed only {changed}"
    assert "not_null_columns" in refused, "a null campaign_id was written into a contracted Delta mart"
    crossed = [table for table in TABLES if before[table] in seen[table] and after[table] in seen[table]]
    log(f"tables read in both states during the run: {crossed}")
    assert crossed, "no read saw a table both before and after its merge: the reads did not overlap the commits"
