#!/usr/bin/env python3
"""Benchmark the warehouse against a floor measured in the same run, on this machine.

For --events N (and again for N/10, for the refresh ratio) it:
1. generates N events (scripts/generate_events.py), holding back the last 5 minutes of
   arrivals as "new" events;
2. loads the history and times a full `dbt build --full-refresh` (models and tests);
3. times the floor: one hand-written DuckDB query computing the per-delivery counts and
   unique counts straight from the raw tables (dedup on event_id included);
4. times a refresh (scripts/refresh.py) loading the 5 new minutes on top of the history;
5. times typical BI widget queries for one campaign on the published serving file
   (p50 / p95 over repeated runs);
and prints a table and JSON with the ratios build/floor and refresh(N)/refresh(N/10), plus
the peak memory of every child process. Figures are measured, never assumed.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DBT = str(Path(PYTHON).with_name("dbt"))
TABLES = ["campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"]

FLOOR_SQL = """
with feedback as (
    select distinct on (trim(event_id)) trim(event_id) as event_id, campaign_id, execution_id, lower(trim(channel)) as channel,
        message_id, lower(trim(status)) as status, lower(trim(failure_type)) as failure_type
    from raw.message_feedback_events
    where nullif(trim(event_id), '') is not null
),
tracking as (
    select distinct on (trim(event_id)) trim(event_id) as event_id, campaign_id, execution_id, lower(trim(channel)) as channel,
        message_id, lower(trim(interaction)) as interaction
    from raw.message_tracking_events
    where nullif(trim(event_id), '') is not null
),
feedback_counts as (
    select campaign_id, execution_id, channel,
        count(*) filter (status = 'excluded') as excluded, count(*) filter (status = 'error') as errors,
        count(*) filter (status = 'sent') as sent, count(*) filter (status = 'delivered') as delivered,
        count(*) filter (status = 'bounce') as bounces, count(*) filter (status = 'bounce' and failure_type = 'hard') as hard_bounces
    from feedback group by all
),
tracking_counts as (
    select campaign_id, execution_id, channel,
        count(*) filter (interaction = 'open') as opens, count(*) filter (interaction = 'click') as clicks,
        count(distinct message_id) filter (interaction = 'open') as unique_opens,
        count(distinct message_id) filter (interaction = 'click') as unique_clicks,
        count(distinct message_id) filter (interaction in ('open', 'click')) as estimated_unique_opens,
        count(*) filter (interaction = 'impression') as impressions
    from tracking group by all
)
select count(*), sum(sent), sum(unique_opens)
from feedback_counts full outer join tracking_counts using (campaign_id, execution_id, channel)
"""

WIDGET_QUERIES = {
    "campaign KPIs": "select * from marts.live_campaign_statistics where campaign_id = ?",
    "email statistics table": "select * from marts.live_delivery_statistics where campaign_id = ? order by execution_started_at",
    "24h chart": "select hour_start, sum(sent), sum(delivered), sum(bounces), sum(errors) from marts.live_delivery_timeseries "
    "where campaign_id = ? group by hour_start order by hour_start",
    "bounce reasons": "select reason, sum(events) from marts.live_delivery_reasons where campaign_id = ? and reason_kind = 'bounce' group by reason",
    "best domains": "select recipient_domain, sum(unique_opens) as opens from marts.live_recipient_domains where campaign_id = ? "
    "group by 1 order by 2 desc limit 10",
    "period overview": "select sum(sent), sum(delivered), sum(unique_opens), sum(unique_clicks) from marts.period_delivery_report where campaign_id = ?",
    "top links": "select url, clicks, share_of_clicks from marts.period_top_links where campaign_id = ? and link_rank <= 10",
}


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def split_new_minutes(generated: Path, history: Path, new: Path, minutes: int) -> tuple[str, int]:
    """Plays "now" at the 90th percentile of arrivals (a busy moment, not the sparse tail of
    late events): history is what arrived up to now - `minutes`, new is what arrived in the
    last `minutes`; later arrivals are the future and are left out."""
    con = duckdb.connect()
    now = con.execute(
        "select quantile_disc(try_cast(ingested_at as timestamp), 0.9) "
        f"from read_parquet('{generated}/message_feedback_events.parquet')"
    ).fetchone()[0]
    cutoff = now - timedelta(minutes=minutes)
    history.mkdir(parents=True)
    new.mkdir(parents=True)
    new_rows = 0
    for table in TABLES:
        source = f"read_parquet('{generated}/{table}.parquet')"
        if table == "campaigns":
            con.execute(f"copy (select * from {source}) to '{history}/{table}.parquet' (format parquet)")
            continue
        arrival = "coalesce(try_cast(ingested_at as timestamp), timestamp '1970-01-01')"
        con.execute(f"copy (select * from {source} where {arrival} <= '{cutoff}') to '{history}/{table}.parquet' (format parquet)")
        new_filter = f"{arrival} > '{cutoff}' and {arrival} <= '{now}'"
        con.execute(f"copy (select * from {source} where {new_filter}) to '{new}/{table}.parquet' (format parquet)")
        new_rows += con.execute(f"select count(*) from {source} where {new_filter}").fetchone()[0]
    return now.strftime("%Y-%m-%d %H:%M:%S"), new_rows


def run_size(events: int, work: Path, repeats: int) -> dict[str, float | int | str]:
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    generated, history, new = work / "generated", work / "history", work / "new"
    warehouse = work / "warehouse.duckdb"
    env["WAREHOUSE_PATH"] = str(warehouse)
    result: dict[str, float | int | str] = {"events": events}
    result["generate_s"] = timed([PYTHON, "scripts/generate_events.py", "--events", str(events), "--out", str(generated)], env)
    as_of, new_rows = split_new_minutes(generated, history, new, 5)
    result["new_events_5min"] = new_rows
    started = time.perf_counter()
    for table in TABLES:
        timed([PYTHON, "scripts/load_events.py", "--quiet", "--table", table, str(history / f"{table}.parquet")], env)
    result["load_s"] = time.perf_counter() - started
    variables = f'{{report_as_of: "{as_of}"}}'
    result["full_build_s"] = timed([DBT, "build", "--full-refresh", "--exclude", "tag:golden", "--vars", variables], env)
    con = duckdb.connect(str(warehouse), read_only=True)
    floor_times = []
    for _ in range(2):
        started = time.perf_counter()
        con.execute(FLOOR_SQL).fetchall()
        floor_times.append(time.perf_counter() - started)
    con.close()
    result["floor_s"] = min(floor_times)
    # Warm-up refresh with no new data (dbt parses the project for these vars once), then
    # the measured one; both as of the moment the new events end.
    refresh = [PYTHON, "scripts/refresh.py", "--warehouse", str(warehouse), "--report-as-of", as_of]
    timed(refresh, env)
    files = [str(new / f"{table}.parquet") for table in TABLES if (new / f"{table}.parquet").exists()]
    result["refresh_s"] = timed([*refresh, *files], env)
    serving = warehouse.with_name("serving.duckdb")
    con = duckdb.connect(str(serving), read_only=True)
    campaign = con.execute(
        "select campaign_id from marts.live_delivery_statistics group by 1 order by sum(sent) desc limit 1"
    ).fetchone()[0]
    latencies = []
    for _ in range(repeats):
        for sql in WIDGET_QUERIES.values():
            started = time.perf_counter()
            con.execute(sql, [campaign]).fetchall()
            latencies.append((time.perf_counter() - started) * 1000)
    con.close()
    latencies.sort()
    result["widget_p50_ms"] = statistics.median(latencies)
    result["widget_p95_ms"] = latencies[int(0.95 * (len(latencies) - 1))]
    result["warehouse_mib"] = round(warehouse.stat().st_size / 2**20)
    result["build_over_floor"] = result["full_build_s"] / result["floor_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="history size N (N/10 is run too)")
    parser.add_argument("--repeats", type=int, default=20, help="runs of each widget query")
    parser.add_argument("--work-dir", type=Path, help="keep files here (default: a temporary folder, removed)")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="benchmark-"))
    results = []
    try:
        for size in (args.events // 10, args.events):
            folder = work / f"n{size}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            print(f"running N = {size:,} ...", flush=True)
            results.append(run_size(size, folder, args.repeats))
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    small, large = results
    summary = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB",
        "runs": results,
        "refresh_n_over_n10": large["refresh_s"] / small["refresh_s"],
        "peak_child_memory_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }
    rows = [
        ("events", "{:,}"), ("generate_s", "{:.1f}"), ("load_s", "{:.1f}"), ("full_build_s", "{:.1f}"),
        ("floor_s", "{:.2f}"), ("build_over_floor", "{:.1f}x"), ("new_events_5min", "{:,}"), ("refresh_s", "{:.1f}"),
        ("widget_p50_ms", "{:.1f}"), ("widget_p95_ms", "{:.1f}"), ("warehouse_mib", "{:,}"),
    ]
    print(f"\nbenchmark, {summary['date']}, {summary['machine']}")
    print(f"{'metric':<18s}{'N/10':>14s}{'N':>14s}")
    for key, fmt in rows:
        print(f"{key:<18s}{fmt.format(small[key]):>14s}{fmt.format(large[key]):>14s}")
    print(f"refresh(N) / refresh(N/10) = {summary['refresh_n_over_n10']:.2f}")
    print(f"peak memory of any child process: {summary['peak_child_memory_mib']:,} MiB")
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
