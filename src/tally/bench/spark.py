"""Benchmark the Spark target on one machine against the same floor as `tally bench`.

For --events N it:
1. generates N events (tally generate, Parquet);
2. loads them into a Parquet lake (tally load --lake) and times it;
3. times `dbt build --full-refresh --target spark` (local session), models only, then the
   data tests as a second invocation (--with-tests), so the two costs are told apart;
4. times the floor on Spark: the hand-written query of `tally bench` (per-delivery
   counts and unique counts straight from the raw tables, deduplicated on event_id) in
   Spark SQL over the same lake, in a fresh local session of the same size, best of two;
5. with --with-duckdb, the same on DuckDB for the same files (load, models-only build,
   floor), so both engines' overheads come from one run on one machine;
6. with --incremental-slices K, the events are generated in K slices of arrival time: the
   first K-1 are loaded before the full build, the last one after it, and an incremental
   `dbt run` (models only) is timed on it: what a refresh of newly arrived events costs.
7. with --refreshes R (and --incremental-slices K > R), slices 1..H are the history (H is
   --history-slices, default K-R), loaded before the full build in one lake file per table
   (a compacted history), and slices H+1..H+R are each refreshed in turn by the live refresh
   on Spark (`tally refresh --target spark`: load into the lake, the live selection on
   Spark, the mirror, the publish to a DuckDB serving file), then one more refresh loads
   nothing: the fixed cost. All of them run in this one process as `tally watch` runs them,
   so the first pays Spark's start and the later ones reuse its session. Each refresh
   reports as of the newest arrival of its slice (the moment it landed), so its live window
   holds the slice; its steps' seconds come from the refresh log, its new events from the
   slice's files. Slices are equal spans of arrival time and the last ones hold only the
   late tail, so a marginal cost wants H below K-R: slices of full size, about as many
   events per refresh at every history size (K in proportion to --events).
--file-format chooses the Spark tables' format (var spark_file_format): delta (MERGE) or
parquet (partition rewrites), so the two incremental paths are measured on the same files.
Prints a table and JSON. Run with .venv-engines (make install-engines).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from tally import settings
from tally.common import timed as timed_in

REPO = settings.REPO_ROOT
PYTHON = sys.executable
TALLY = [PYTHON, "-m", "tally"]
DBT = str(Path(PYTHON).with_name("dbt"))
timed = partial(timed_in, cwd=REPO, echo=True)
TABLES = ["campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"]
MODELS_ONLY = ["--exclude", "resource_type:test", "resource_type:unit_test"]
REFRESH_KEYS = {"slice", "new_events", "report_as_of", "seconds"}

# tally.bench.local's FLOOR_SQL in Spark SQL: first copy of each event_id (DuckDB's
# `distinct on`), then the same per-delivery counts and unique counts.
SPARK_FLOOR_SQL = """
with feedback as (
    select event_id, campaign_id, execution_id, channel, message_id, status, failure_type from (
        select trim(event_id) as event_id, campaign_id, execution_id, lower(trim(channel)) as channel, message_id,
            lower(trim(status)) as status, lower(trim(failure_type)) as failure_type,
            row_number() over (partition by trim(event_id) order by _loaded_at) as copy_number
        from raw.message_feedback_events
        where nullif(trim(event_id), '') is not null
    ) as ranked where copy_number = 1
),
tracking as (
    select event_id, campaign_id, execution_id, channel, message_id, interaction from (
        select trim(event_id) as event_id, campaign_id, execution_id, lower(trim(channel)) as channel, message_id,
            lower(trim(interaction)) as interaction,
            row_number() over (partition by trim(event_id) order by _loaded_at) as copy_number
        from raw.message_tracking_events
        where nullif(trim(event_id), '') is not null
    ) as ranked where copy_number = 1
),
feedback_counts as (
    select campaign_id, execution_id, channel,
        count_if(status = 'excluded') as excluded, count_if(status = 'error') as errors,
        count_if(status = 'sent') as sent, count_if(status = 'delivered') as delivered,
        count_if(status = 'bounce') as bounces, count_if(status = 'bounce' and failure_type = 'hard') as hard_bounces
    from feedback group by campaign_id, execution_id, channel
),
tracking_counts as (
    select campaign_id, execution_id, channel,
        count_if(interaction = 'open') as opens, count_if(interaction = 'click') as clicks,
        count(distinct case when interaction = 'open' then message_id end) as unique_opens,
        count(distinct case when interaction = 'click' then message_id end) as unique_clicks,
        count(distinct case when interaction in ('open', 'click') then message_id end) as estimated_unique_opens,
        count_if(interaction = 'impression') as impressions
    from tracking group by campaign_id, execution_id, channel
)
select count(*), sum(sent), sum(unique_opens)
from feedback_counts full outer join tracking_counts using (campaign_id, execution_id, channel)
"""

SPARK_FLOOR_SCRIPT = """
import sys, time
from pyspark.sql import SparkSession
lake, cores, memory, partitions, sql = sys.argv[1:6]
spark = (SparkSession.builder.master(f"local[{cores}]").config("spark.driver.memory", memory)
         .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", partitions)
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sql("create database if not exists raw")
for table in ["message_feedback_events", "message_tracking_events"]:
    spark.read.parquet(f"{lake}/raw/{table}").createOrReplaceTempView(table)
sql = sql.replace("raw.", "")
times = []
for _ in range(2):
    started = time.perf_counter()
    result = spark.sql(sql).collect()
    times.append(time.perf_counter() - started)
print("FLOOR", min(times), result[0][0])
"""


def arrival(folder: Path) -> tuple[str | None, int]:
    """The newest arrival time (ingested_at) of a slice's events, when it landed (None for
    a slice without events), and how many events (feedback and tracking rows) it holds."""
    import duckdb

    files = [str(folder / f"{table}.parquet") for table in ("message_feedback_events", "message_tracking_events")]
    con = duckdb.connect()
    try:
        newest, events = con.execute(
            "select max(try_cast(ingested_at as timestamp)) filter (where try_cast(ingested_at as timestamp) "
            "< timestamp '2090-01-01'), count(*) from read_parquet(?, union_by_name = true)",
            [[path for path in files if Path(path).exists()]],
        ).fetchone()
    finally:
        con.close()
    return (newest.strftime("%Y-%m-%d %H:%M:%S") if newest is not None else None), events


def refresh_slices(work: Path, folders: list[Path], partitions: str) -> list[dict[str, object]]:
    """Each folder refreshed in turn by one Refresher in this process (as `tally watch`
    does), as of its arrival; each refresh's total and step seconds."""
    from tally.refresh.run import Refresher
    from tally.refresh.spark import SparkPaths

    # The build's settings (the child processes' environment), for the session in this process.
    os.environ.update(DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false", SPARK_SHUFFLE_PARTITIONS=partitions)
    paths = SparkPaths(work / "lake", work / "spark")
    refresher = Refresher(paths.mirror, paths.mirror.with_name("serving.duckdb"), spark=paths)
    log = settings.refresh_log_path(paths.mirror)
    runs: list[dict[str, object]] = []
    try:
        # The slices in turn, then nothing new at the last one's instant: the fixed cost.
        for folder in [*folders, None]:
            if folder is None:
                files, as_of, events = [], runs[-1]["report_as_of"] if runs else None, 0
            else:
                files = [folder / f"{table}.parquet" for table in TABLES if (folder / f"{table}.parquet").exists()]
                newest, events = arrival(folder)
                # A slice without events reports as of the one before (no arrival moves the clock).
                as_of = newest or (runs[-1]["report_as_of"] if runs else None)
            started = time.perf_counter()
            code = refresher.run(files, as_of)  # type: ignore[arg-type]
            seconds = time.perf_counter() - started
            if code != 0:
                raise SystemExit(f"the refresh of {folder or 'nothing new'} failed (exit {code}); see {log}")
            record = json.loads(log.read_text().splitlines()[-1])
            runs.append(
                {
                    "slice": folder.name if folder else "(nothing new)",
                    "new_events": events,
                    "report_as_of": as_of,
                    "seconds": round(seconds, 2),
                    **record["step_seconds"],
                }
            )
    finally:
        refresher.close()
    return runs


def refresh_costs(runs: list[dict[str, object]]) -> dict[str, float]:
    """Fixed and marginal cost of the refreshes that reuse Spark's session (every one after
    the first): the fixed cost is the refresh that loaded nothing; the marginal cost per new
    event is each loading refresh's seconds above it, over its new events: their median."""
    warm = runs[1:]
    fixed = [float(run["seconds"]) for run in warm if run["new_events"] == 0]  # type: ignore[arg-type]
    loading = [run for run in warm if int(run["new_events"]) > 0]  # type: ignore[call-overload]
    if not fixed or not loading:
        raise ValueError("the fixed and marginal costs need a warm refresh with nothing new and one with new events")
    median = statistics.median((float(run["seconds"]) - fixed[-1]) * 1000 / int(run["new_events"]) for run in loading)  # type: ignore[arg-type, call-overload]
    return {"refresh_fixed_s": fixed[-1], "refresh_marginal_ms_per_event": round(median, 3)}


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate (default 1M)")
    parser.add_argument("--work-dir", type=Path, help="keep files here (default: a temporary folder, removed)")
    parser.add_argument("--with-tests", action="store_true", help="also time the data tests on Spark (dbt test)")
    parser.add_argument("--with-duckdb", action="store_true", help="also load, build and floor the same files on DuckDB")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--file-format", choices=["delta", "parquet"], default="delta", help="Spark table format (default delta)")
    parser.add_argument(
        "--incremental-slices", type=int, default=0, help="generate K slices; time an incremental run on the last (default: off)"
    )
    parser.add_argument(
        "--refreshes",
        type=int,
        default=0,
        help="refresh R slices after the history with `tally refresh --target spark`, then one with nothing new (default: off)",
    )
    parser.add_argument(
        "--history-slices",
        type=int,
        help="with --refreshes R: slices 1..H are the history, H+1..H+R the refreshes (default K-R)",
    )
    args = parser.parse_args(argv)
    if args.incremental_slices == 1 or args.incremental_slices < 0:
        parser.error("--incremental-slices needs at least 2 slices")
    if args.refreshes < 0 or (args.refreshes and args.refreshes >= args.incremental_slices):
        parser.error("--refreshes R needs --incremental-slices K with K > R (the first K-R slices are the history)")
    if args.history_slices is not None and not args.refreshes:
        parser.error("--history-slices needs --refreshes")
    history = args.incremental_slices - args.refreshes if args.history_slices is None else args.history_slices
    if args.refreshes and not 1 <= history <= args.incremental_slices - args.refreshes:
        parser.error("--history-slices H needs 1 <= H <= K-R (slices H+1..H+R are the refreshes)")
    if args.refreshes and args.file_format != "delta":
        parser.error("--refreshes needs --file-format delta: the refresh publishes from the Delta tables")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="benchmark-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    cores = os.environ.get("SPARK_CORES", "2")
    memory = os.environ.get("SPARK_DRIVER_MEMORY", "6g")
    partitions = os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8")
    env = dict(
        os.environ,
        DBT_PROFILES_DIR=str(REPO),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_TARGET="spark",
        LAKE_PATH=str(work / "lake"),
        SPARK_WORK_DIR=str(work / "spark"),
        SPARK_SHUFFLE_PARTITIONS=partitions,
    )
    result: dict[str, object] = {
        "events": args.events,
        "spark_cores": cores,
        "spark_driver_memory": memory,
        "shuffle_partitions": partitions,
        "file_format": args.file_format,
    }
    try:
        generated = work / "generated"
        slices = args.incremental_slices
        folders = [generated / f"slice_{index:03d}" for index in range(1, slices + 1)] if slices else [generated]
        if not (folders[-1] / "message_feedback_events.parquet").exists():
            slicing = ["--slices", str(slices)] if slices else []
            result["generate_s"] = timed(
                [*TALLY, "generate", "--events", str(args.events), *slicing, "--out", str(generated)], env
            )

        def load_lake(loaded: list[Path]) -> float:
            """The folders' files, one lake file per table (one `tally load` each)."""
            started = time.perf_counter()
            for table in TABLES:
                paths = [str(folder / f"{table}.parquet") for folder in loaded if (folder / f"{table}.parquet").exists()]
                if paths:
                    timed([*TALLY, "load", "--quiet", "--lake", str(work / "lake"), "--table", table, *paths], env)
            return time.perf_counter() - started

        # What the full build reads: the history (the refreshes' slices and the incremental
        # run's held back).
        built = folders[:history] if args.refreshes else folders[:-1] if slices else folders
        if args.refreshes:
            result["history_slices"] = f"1-{history} of {slices}"
            result["load_lake_s"] = load_lake(built)
        else:
            result["load_lake_s"] = sum(load_lake([folder]) for folder in built)
        as_of = f'{{report_as_of: "2026-11-06 00:00:00", spark_file_format: {args.file_format}}}'
        target = ["--target-path", str(work / "target_spark")]
        result["spark_build_models_s"] = timed([DBT, "build", "--full-refresh", *MODELS_ONLY, "--vars", as_of, *target], env)
        if args.with_tests:
            result["spark_tests_s"] = timed([DBT, "test", "--exclude", "tag:golden", "--vars", as_of, *target], env)
        floor = subprocess.run(
            [PYTHON, "-c", SPARK_FLOOR_SCRIPT, str(work / "lake"), cores, memory, partitions, SPARK_FLOOR_SQL],
            cwd=work,
            capture_output=True,
            text=True,
        )
        line = [text for text in floor.stdout.splitlines() if text.startswith("FLOOR")]
        if floor.returncode != 0 or not line:
            raise SystemExit(f"spark floor failed:\n{floor.stdout[-2000:]}\n{floor.stderr[-3000:]}")
        result["spark_floor_s"] = float(line[0].split()[1])
        result["spark_build_over_floor"] = result["spark_build_models_s"] / result["spark_floor_s"]  # type: ignore[operator]
        # After the floor, which reads the same lake as the full build did.
        if slices and not args.refreshes:
            result["incremental_slice_load_s"] = load_lake(folders[-1:])
            result["spark_incremental_models_s"] = timed([DBT, "run", "--vars", as_of, *target], env)
        if args.refreshes:
            result["refreshes"] = runs = refresh_slices(work, folders[history : history + args.refreshes], partitions)
            if args.refreshes > 1:
                result.update(refresh_costs(runs))
        if args.with_duckdb:
            from tally.bench.local import floor_seconds  # the DuckDB benchmark's own floor query and timing

            duck_env = dict(env, DBT_TARGET="dev", WAREHOUSE_PATH=str(work / "warehouse.duckdb"))
            started = time.perf_counter()
            for table in TABLES:
                paths = [str(folder / f"{table}.parquet") for folder in built if (folder / f"{table}.parquet").exists()]
                timed([*TALLY, "load", "--quiet", "--table", table, *paths], duck_env)
            result["duckdb_load_s"] = time.perf_counter() - started
            result["duckdb_build_models_s"] = timed(
                [DBT, "build", "--full-refresh", *MODELS_ONLY, "--vars", as_of, "--target-path", str(work / "target_duckdb")],
                duck_env,
            )
            result["duckdb_floor_s"] = floor_seconds(work / "warehouse.duckdb")
            result["duckdb_build_over_floor"] = result["duckdb_build_models_s"] / result["duckdb_floor_s"]  # type: ignore[operator]
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    result["peak_child_memory_mib"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    for key, value in result.items():
        if key == "refreshes":
            continue
        print(f"{key:>30}: {value:.2f}" if isinstance(value, float) else f"{key:>30}: {value}")
    for run in result.get("refreshes", []):  # type: ignore[union-attr]
        steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in run.items() if step not in REFRESH_KEYS)
        print(f"refresh {run['slice']}: {run['new_events']} new events, {run['seconds']:.1f} s ({steps})")
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0
