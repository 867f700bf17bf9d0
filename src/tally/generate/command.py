"""`tally generate`: generated events written as the flat contract's files, or as the
platform's own exports (the description is tally.generate.events')."""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import duckdb

from tally.generate import ajo_exports, events, files, raw_rows


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=events.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10000, help="approximate number of event rows (all event tables)")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same files")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--start", default="2026-11-01 00:00:00", help="UTC time of the first execution window")
    parser.add_argument("--days", type=int, default=14, help="days over which executions start")
    parser.add_argument(
        "--experiment-lift",
        type=float,
        default=events.DEFAULT_EXPERIMENT_LIFT,
        help="true relative lift of treatment B's unique opens and clicks over treatment A's in the content "
        f"experiments (default {events.DEFAULT_EXPERIMENT_LIFT}; 0 for A/A experiments)",
    )
    parser.add_argument("--slices", type=int, default=1, help="split rows by arrival time into N successive loads")
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = all cores)")
    parser.add_argument("--memory-limit", default="8GiB", help="DuckDB memory limit")
    parser.add_argument(
        "--layout",
        choices=["flat", "ajo", "both"],
        default="flat",
        help="flat: the contract's tables (default); ajo: the same events as the platform's dataset exports "
        "(tally.generate.ajo_exports); both: ajo exports in OUT/ajo and the same events flat in OUT/flat",
    )
    parser.add_argument(
        "--ajo-format",
        choices=["json", "parquet"],
        default="json",
        help="AJO exports as gzipped NDJSON (default) or nested Parquet",
    )
    args = parser.parse_args(argv)
    if args.events < 100:
        parser.error("--events must be at least 100")
    if not -0.5 <= args.experiment_lift <= 2.5:
        parser.error("--experiment-lift must be between -0.5 and 2.5 (treatment B's open rate stays a probability)")
    if args.layout != "flat" and args.slices > 1:
        parser.error("--slices applies to the flat layout only")
    started = time.perf_counter()
    con = duckdb.connect(config={"memory_limit": args.memory_limit, "preserve_insertion_order": False})
    if args.threads:
        con.execute(f"set threads = {int(args.threads)}")
    events.build(con, args.events, args.seed, args.start, args.days, args.experiment_lift)
    raw_rows.assemble(con)
    if args.layout == "flat":
        counts = files.write(con, args.out, args.format, args.slices)
    else:
        counts = ajo_exports.write(con, args.out, args.format, args.ajo_format, args.layout)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = sum(v for k, v in counts.items() if k not in ("campaigns", "ajo_entity"))
    for table, rows in counts.items():
        print(f"{table:26s} {rows:>12,}")
    print(f"{'events (all event tables)' if args.layout == 'flat' else 'records (all event files)':26s} {total:>12,}")
    print(f"generated in {seconds:.1f} s, {total / seconds:,.0f} events/s, peak memory {peak_mib:,.0f} MiB -> {args.out}")
    return 0
