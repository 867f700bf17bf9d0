"""Live refresh: load new event files, rebuild what the live marts need, publish for BI.

Once (`tally refresh FILES...`, for a scheduler) or as a service (`tally watch DIR`).
Each step prints what it did and how long it took. Why the steps are what they are:
* One refresh at a time: a lock file makes a second, overlapping run exit at once (code 3)
  instead of queueing behind DuckDB's one-writer lock.
* Loading goes through the loader, tally.load (atomic, fingerprinted: a file is never
  loaded twice), then dbt runs, in this process, the models upstream of the live marts,
  incrementally (only the messages and deliveries the new events touch are re-derived),
  and the live marts' own tests. Tests over all history and the period marts belong to
  the full `dbt build`, run less often: they scale with history.
* Every live model of one run uses one report instant (dbt's run_started_at unless
  --report-as-of is given), published in marts.publish_status with the publish time, the
  newest event counted and the last failed refresh, so readers can show "data as of".
* BI never opens the working warehouse. The marts are published into a new small serving
  catalog (DuckDB v1.2 storage format, marts only: no raw data, no PII) that atomically
  replaces the previous one with os.replace; the large facts are views over immutable
  Parquet day files beside it (serving.duckdb.parts/), of which a refresh writes only the
  days its new events touch. A failed refresh publishes nothing new: the previous marts
  stay, and only its status row records the failure.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path

from tally import settings
from tally.load import RefusedFile
from tally.refresh.publish import MESSAGE_FACTS
from tally.refresh.run import Refresher
from tally.refresh.spark import SparkPaths
from tally.refresh.watch import watch


def report_as_of_arg(text: str) -> str:
    """--report-as-of is checked here, before it reaches dbt's --vars: only a real UTC
    timestamp in one fixed shape passes, so a quote or a brace can never add a var."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", text):
        raise argparse.ArgumentTypeError(f"expected UTC 'YYYY-MM-DD HH:MM:SS', got {text!r}")
    try:
        datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a real date and time: {text!r} ({error})") from None
    return text


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """The engine, the working warehouse and the serving file, the same for refresh, watch
    and publish."""
    parser.add_argument(
        "--target",
        choices=["dev", "spark"],
        default="dev",
        help="dbt target: dev (DuckDB, the default) or spark (files load into the lake at $LAKE_PATH, the "
        "models run on Spark with its tables in $SPARK_WORK_DIR, the marts are published from them; docs/engines.md)",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="working DuckDB file (default: $WAREHOUSE_PATH, else warehouse/warehouse.duckdb); with --target spark, "
        "the mirror of Spark's marts (default: $SPARK_WORK_DIR/mirror.duckdb)",
    )
    parser.add_argument("--serving", type=Path, help="published file for BI (default: serving.duckdb beside the warehouse)")
    parser.add_argument(
        "--include-message-facts",
        action="store_true",
        help=f"also publish {MESSAGE_FACTS} (an analyst snapshot; grows with history)",
    )


def add_watch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--every",
        type=float,
        default=60.0,
        help="watch mode: refresh at least this often, in seconds, even when no file lands (default 60)",
    )
    parser.add_argument("--poll", type=float, default=1.0, help="watch mode: seconds between looks at DIR (default 1)")
    parser.add_argument(
        "--settle",
        type=float,
        default=10.0,
        help="watch mode: take a landed file only once unchanged (size, mtime) for this many seconds, for "
        "writers that write in place under the final name (default 10; 0 for writers that rename into DIR)",
    )
    parser.add_argument(
        "--max-refreshes", type=int, help="watch mode: stop after this many refreshes (default: run until SIGTERM)"
    )


def refresher_for(args: argparse.Namespace) -> Refresher:
    spark = SparkPaths.from_env() if args.target == "spark" else None
    if spark is not None and args.warehouse:
        spark.mirror_file = args.warehouse.resolve()  # the mirror the refresh writes is the one it publishes
    warehouse = args.warehouse or (spark.mirror if spark is not None else settings.warehouse_path())
    serving = (args.serving or settings.serving_path(warehouse)).resolve()
    return Refresher(warehouse.resolve(), serving, args.include_message_facts, spark)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="new event files; the raw table is read from each name")
    add_target_options(parser)
    parser.add_argument(
        "--report-as-of",
        type=report_as_of_arg,
        help="UTC 'YYYY-MM-DD HH:MM:SS' (default: the start of the dbt run; leave unset in a schedule)",
    )
    parser.add_argument("--publish-only", action="store_true", help="skip loading and dbt; just publish the current marts")
    parser.add_argument(
        "--watch", type=Path, metavar="DIR", help="run as a service: load files as they land in DIR (write, then rename into DIR)"
    )
    add_watch_options(parser)
    args = parser.parse_args(argv)
    if args.watch and (args.files or args.publish_only or args.report_as_of):
        parser.error("--watch takes no FILES, --publish-only or --report-as-of: it loads what lands and reports as of each run")
    refresher = refresher_for(args)
    try:
        if args.watch:
            return watch(refresher, args.watch.resolve(), args.every, args.poll, args.max_refreshes, args.settle)
        return refresher.run(args.files, args.report_as_of, args.publish_only)
    except RefusedFile as refused:
        print(f"refused, nothing loaded: {refused}", file=sys.stderr)
        return 2
    finally:
        refresher.close()


def watch_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """`tally watch DIR`: the refresh service (`tally refresh --watch DIR`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Live refresh as a service: load files as they land in DIR (write them under a hidden or .tmp "
        "name, then rename them into DIR; a file written in place is taken once unchanged for --settle seconds), "
        "rebuild the live marts and publish; refresh at least every --every "
        "seconds. Loaded files move to DIR/loaded/, refused ones to DIR/refused/ with their reason. SIGTERM stops "
        "it after the current refresh.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="landing folder (created)")
    add_target_options(parser)
    add_watch_options(parser)
    args = parser.parse_args(argv)
    refresher = refresher_for(args)
    try:
        return watch(refresher, args.dir.resolve(), args.every, args.poll, args.max_refreshes, args.settle)
    finally:
        refresher.close()


def publish_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """`tally publish`: the current marts into the serving file (`tally refresh --publish-only`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Publish the current marts of the working warehouse to the serving file BI tools and the "
        "dashboard open read-only (no loading, no dbt): written aside, then swapped in atomically.",
    )
    add_target_options(parser)
    args = parser.parse_args(argv)
    refresher = refresher_for(args)
    try:
        return refresher.run([], None, publish_only=True)
    finally:
        refresher.close()
