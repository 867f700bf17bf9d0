"""Benchmark the warehouse against a floor measured in the same run, on this machine.

For --events N (and again for N/10, for the refresh ratio) it:
1. generates N events (tally generate) whose busiest arrivals end now, and
   holds back the last 50 minutes of arrivals as ten 5-minute batches;
2. loads the history and times a full `dbt build --full-refresh` (models and tests), then
   `dbt run --full-refresh` (models only);
3. times the floor: one hand-written DuckDB query computing the per-delivery counts and
   unique counts straight from the raw tables (dedup on event_id included); and the
   same-work floor: one DuckDB script, no dbt, doing the build's model work up to its main
   outputs (typing, validation, hashing, dedup, the staged tables, int_events_unioned,
   fct_message_hours, fct_messages, fct_deliveries; tally.bench.same_work), checked equal
   to the build's tables row for row, with build/same-work and run/same-work against the
   targets (1.3x and 1.1x);
4. starts the refresh service (tally watch) and lands the ten batches one after the
   other: each refresh's time (load + dbt + publish), median and max;
5. times typical BI widget queries and the query-time period reports on the published
   serving file (p50 / p95 over repeated runs);
6. refresh of the same 5-minute batches, at the same event rate, on a history 4 times
   longer: 4 x H events over 4 x 14 days, the short history its last 14 days (about H
   events), the same ten batches landed on each; median refresh and dbt step on each, and
   long over short against the target 1.1x (--history-events H, default N/4; 0 skips it;
   --history-only: this alone, e.g. --history-events 250000 for 250k vs 1M);
7. times loading the same events in both layouts: the flat files, and the platform's own
   exports (`tally load --layout ajo`, --ajo-format parquet or json): load_ajo_s,
   load_flat_same_events_s and their ratio, in wall and CPU seconds, and the same without
   keeping the records (--skip-records) (--layouts-only: this alone);
and prints a table and JSON with build/floor, run/floor, refresh(N)/refresh(N/10) and the
peak memory of every child process. --soak MINUTES lands files continuously instead and
reports each event's delay to being counted. Figures are measured, never assumed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tally.bench.local import HISTORY_FACTOR, history_ratio, run_size
from tally.bench.soak import soak


def positive_events(text: str) -> int:
    value = int(text)
    if value < 10_000:
        raise argparse.ArgumentTypeError(f"expected at least 10000 events (N/10 is run too), got {value}")
    return value


def parser_for(prog: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=positive_events, default=1_000_000, help="history size N (N/10 is run too)")
    parser.add_argument("--repeats", type=int, default=20, help="runs of each widget query")
    parser.add_argument("--work-dir", type=Path, help="keep files here (default: a temporary folder, removed)")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="instead: land files for MINUTES on top of --events of history, refreshed by tally watch",
    )
    parser.add_argument("--rate", type=int, default=2000, help="soak: events landed per second (default 2000)")
    parser.add_argument("--every", type=float, default=60.0, help="soak: the watcher's --every (default 60)")
    parser.add_argument(
        "--ajo-format",
        choices=["parquet", "json", "none"],
        default="parquet",
        help="also time loading the same events as the platform's exports (--layout ajo) in this "
        "format: load_ajo_s beside load_flat_same_events_s (default parquet; none: skip)",
    )
    parser.add_argument(
        "--history-events",
        type=int,
        metavar="H",
        help="the history-length measure: H events over 14 days against 4 x H over 56 days, the same "
        "batches refreshed on both (default N/4, so the long history is N; 0: skip it)",
    )
    parser.add_argument(
        "--history-only",
        action="store_true",
        help="only the history-length measure (--history-events, default N/4): no N/10 and N runs",
    )
    parser.add_argument(
        "--layouts-only",
        action="store_true",
        help="only the flat vs ajo load comparison (best of 2), no build, refresh or queries",
    )
    return parser


def run_soak(args: argparse.Namespace, work: Path) -> int:
    """--soak: files landed for MINUTES on top of the history, refreshed by the watcher."""
    try:
        work.mkdir(parents=True, exist_ok=True)
        result = soak(args.events, args.soak, args.rate, work / f"soak-{int(time.time())}", args.every)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    result["targets"] = target_rows({}, {}, result)
    print(json.dumps(result, indent=2, default=str))
    print_targets(result["targets"], {}, f"soak on {args.events:,} events of history")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["events_never_counted"] == 0 and result["reader_mismatches"] == 0 else 1


HISTORY_TARGET = 1.1


def run_history(args: argparse.Namespace, work: Path) -> dict:
    """The history-length measure (tally.bench.local.history_ratio) in a folder of its own."""
    events = args.events // HISTORY_FACTOR if args.history_events is None else args.history_events
    if events <= 0 or args.layouts_only:
        return {}
    folder = work / f"history{events}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"running the same batches on {events:,} and {events * HISTORY_FACTOR:,} events of history ...", flush=True)
    try:
        return history_ratio(events, folder)
    finally:
        if args.work_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


HISTORY_ROWS = [
    ("events of history", "history_{}_events", "{:,}", None),
    ("dbt run --full-refresh s", "history_{}_full_run_s", "{:.1f}", None),
    ("refresh median s", "history_{}_refresh_median_s", "{:.2f}", "history_refresh_long_over_short"),
    ("refresh dbt median s", "history_{}_refresh_dbt_median_s", "{:.2f}", "history_refresh_dbt_long_over_short"),
    ("publish median s", "history_{}_refresh_publish_median_s", "{:.2f}", "history_refresh_publish_long_over_short"),
    ("publish max s", "history_{}_refresh_publish_max_s", "{:.2f}", None),
]


def print_history(history: dict) -> None:
    print(f"\nsame batches ({history['history_new_events_50min']:,} events in 50 min), history 4 times longer, same daily rate")
    print(f"{'metric':<28s}{'14 days':>14s}{'56 days':>14s}{'ratio':>10s}{'target':>10s}")
    for label, key, fmt, ratio in HISTORY_ROWS:
        if key.format("short") not in history:  # a history measured before the row existed
            continue
        short, long = fmt.format(history[key.format("short")]), fmt.format(history[key.format("long")])
        ratio_text = f"{history[ratio]:.2f}x" if ratio else ""
        target = f"<= {HISTORY_TARGET}x" if ratio else ""
        print(f"{label:<28s}{short:>14s}{long:>14s}{ratio_text:>10s}{target:>10s}")


def run_sizes(args: argparse.Namespace, work: Path) -> list[dict]:
    """The N/10 and N runs, each in a folder of its own."""
    results = []
    try:
        for size in (args.events // 10, args.events):
            folder = work / f"n{size}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            print(f"running N = {size:,} ...", flush=True)
            results.append(run_size(size, folder, args.repeats, args.ajo_format, args.layouts_only))
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return results


SUMMARY_ROWS = [
    ("events", "{:,}"),
    ("generate_s", "{:.1f}"),
    ("load_s", "{:.1f}"),
    ("full_build_s", "{:.1f}"),
    ("full_run_s", "{:.1f}"),
    ("floor_s", "{:.2f}"),
    ("build_over_floor", "{:.1f}x"),
    ("run_over_floor", "{:.1f}x"),
    ("same_work_s", "{:.1f}"),
    ("same_work_cpu_s", "{:.1f}"),
    ("same_work_over_floor", "{:.1f}x"),
    ("build_over_same_work", "{:.2f}x"),
    ("run_over_same_work", "{:.2f}x"),
    ("same_work_unequal_rows", "{:,}"),
    ("new_events_50min", "{:,}"),
    ("refresh_median_s", "{:.2f}"),
    ("refresh_max_s", "{:.2f}"),
    ("refresh_load_median_s", "{:.2f}"),
    ("refresh_dbt_median_s", "{:.2f}"),
    ("refresh_publish_median_s", "{:.2f}"),
    ("refresh_publish_max_s", "{:.2f}"),
    ("widget_p50_ms", "{:.1f}"),
    ("widget_p95_ms", "{:.1f}"),
    ("period_campaign_p50_ms", "{:.1f}"),
    ("period_campaign_p95_ms", "{:.1f}"),
    ("period_campaign_cached_p50_ms", "{:.1f}"),
    ("period_campaign_cached_p95_ms", "{:.1f}"),
    ("period_all_deliveries_s", "{:.2f}"),
    ("live_tiles_p50_ms", "{:.1f}"),
    ("live_tiles_p95_ms", "{:.1f}"),
    ("warehouse_mib", "{:,}"),
    ("serving_mib", "{:,}"),
    ("load_flat_same_events_s", "{:.1f}"),
    ("load_ajo_s", "{:.1f}"),
    ("load_ajo_over_flat", "{:.2f}x"),
    ("load_flat_same_events_cpu_s", "{:.1f}"),
    ("load_ajo_cpu_s", "{:.1f}"),
    ("load_ajo_over_flat_cpu", "{:.2f}x"),
    ("load_ajo_skip_records_s", "{:.1f}"),
    ("load_ajo_skip_records_over_flat", "{:.2f}x"),
    ("load_ajo_skip_records_over_flat_cpu", "{:.2f}x"),
]


# Issue 22's targets: (label, where the figure is, its key, at most, unit), read from the
# N run ("run"), the history measure ("history") or a soak ("soak", not part of this run).
TARGETS = [
    ("refresh of a 5-minute batch, median", "run", "refresh_median_s", 5.0, "s"),
    ("refresh of a 5-minute batch, max", "run", "refresh_max_s", 8.0, "s"),
    ("publish, median", "run", "refresh_publish_median_s", 1.0, "s"),
    ("publish, max", "run", "refresh_publish_max_s", 1.0, "s"),
    ("refresh, history 4x longer / shorter", "history", "history_refresh_long_over_short", 1.1, "x"),
    ("publish, history 4x longer / shorter", "history", "history_refresh_publish_long_over_short", 1.1, "x"),
    ("every-delivery 30-day report", "run", "period_all_deliveries_s", 1.0, "s"),
    ("one campaign's period report, p95", "run", "period_campaign_p95_ms", 100.0, "ms"),
    ("  the same, footers cached by the reader", "run", "period_campaign_cached_p95_ms", 100.0, "ms"),
    ("dbt run --full-refresh / same-work floor", "run", "run_over_same_work", 1.1, "x"),
    ("dbt build / same-work floor", "run", "build_over_same_work", 1.3, "x"),
    ("soak: countable to counted, p95", "soak", "after_countable_p95_s", 15.0, "s"),
    ("soak: countable to counted, max", "soak", "after_countable_max_s", 30.0, "s"),
    ("soak: events never counted", "soak", "events_never_counted", 0, ""),
]


def target_rows(large: dict, history: dict, soaked: dict | None = None) -> list[dict]:
    """Every issue-22 target with the figure this run measured (None: not measured here)
    and met / MISSED / not measured."""
    sources = {"run": large, "history": history, "soak": soaked or {}}
    rows = []
    for label, source, key, limit, unit in TARGETS:
        value = sources[source].get(key)
        if value is None:
            verdict = "not measured (tally bench --soak)" if source == "soak" else "not measured"
        else:
            verdict = "met" if value <= limit else "MISSED"
        rows.append({"target": label, "key": key, "measured": value, "at_most": limit, "unit": unit, "verdict": verdict})
    return rows


def print_targets(rows: list[dict], large: dict, scope: str = "history measure only") -> None:
    events = f"N = {large['events']:,}" if "events" in large else scope
    print(f"\nissue 22 targets ({events})")
    print(f"{'target':<44s}{'measured':>12s}{'at most':>10s}  verdict")
    for row in rows:
        unit, number = row["unit"], "{:,.0f}" if not row["unit"] else "{:,.2f}"
        limit = f"{row['at_most']:g}{unit}"
        measured = "-" if row["measured"] is None else number.format(row["measured"]) + unit
        print(f"{row['target']:<44s}{measured:>12s}{limit:>10s}  {row['verdict']}")
    for key, label in (("run_over_floor", "dbt run --full-refresh"), ("build_over_floor", "dbt build")):
        if key in large:
            print(
                f"  {label} / one-query floor = {large[key]:.1f}x (same-work floor / one-query floor = {large['same_work_over_floor']:.1f}x)"
            )


def print_summary(summary: dict, small: dict, large: dict) -> None:
    print(f"\nbenchmark, {summary['date']}, {summary['machine']}")
    print(f"{'metric':<28s}{'N/10':>14s}{'N':>14s}")
    for key, fmt in SUMMARY_ROWS:
        if key in large:
            print(f"{key:<28s}{fmt.format(small[key]):>14s}{fmt.format(large[key]):>14s}")
    if "same_work_s" in large:
        # Issue 22's targets for the full build, against the same-work floor at N.
        for key, target in (("run_over_same_work", 1.1), ("build_over_same_work", 1.3)):
            verdict = "met" if large[key] <= target else "MISSED"
            print(f"{key} at N = {large[key]:.2f}x (target <= {target}x: {verdict})")
        if large["same_work_unequal_rows"]:
            print(f"same-work floor NOT equal to the build: {large['same_work_unequal_tables']}")
    if summary["refresh_n_over_n10"] is not None:
        print(f"refresh(N) / refresh(N/10) = {summary['refresh_n_over_n10']:.2f}")
    print(f"peak memory of any child process: {summary['peak_child_memory_mib']:,} MiB")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = parser_for(prog)
    args = parser.parse_args(argv)
    if args.layouts_only and args.ajo_format == "none":
        parser.error("--layouts-only needs an --ajo-format")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="benchmark-"))
    if args.soak:
        return run_soak(args, work)
    if args.history_only:
        history = run_history(args, work)
        summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "history": history}
        summary["history_target"] = HISTORY_TARGET
        summary["targets"] = target_rows({}, history)
        print_history(history)
        text = json.dumps(summary, indent=2, default=str)
        print(text)
        print_targets(summary["targets"], {})
        if args.json:
            args.json.write_text(text)
        return 0
    results = run_sizes(args, work)
    history = run_history(args, work)
    small, large = results
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB",
        "runs": results,
        "refresh_n_over_n10": large["refresh_median_s"] / small["refresh_median_s"] if "refresh_median_s" in large else None,
        "history": history,
        "history_target": HISTORY_TARGET,
        "peak_child_memory_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }
    summary["targets"] = target_rows(large, history)
    print_summary(summary, small, large)
    if history:
        print_history(history)
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    # Last, so it is what the terminal shows: every target, its figure, met or MISSED.
    print_targets(summary["targets"], large)
    if args.json:
        args.json.write_text(text)
    return 0
