"""Benchmark the warehouse against a floor measured in the same run, on this machine.

For --events N (and again for N/10, for the refresh ratio) it:
1. generates N events (tally generate) whose busiest arrivals end now, and
   holds back the last 50 minutes of arrivals as ten 5-minute batches;
2. loads the history and times a full `dbt build --full-refresh` (models and tests), then
   `dbt run --full-refresh` (models only);
3. times the floor: one hand-written DuckDB query computing the per-delivery counts and
   unique counts straight from the raw tables (dedup on event_id included);
4. starts the refresh service (tally watch) and lands the ten batches one after the
   other: each refresh's time (load + dbt + publish), median and max;
5. times typical BI widget queries and the query-time period reports on the published
   serving file (p50 / p95 over repeated runs);
6. times loading the same events in both layouts: the flat files, and the platform's own
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
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import duckdb

from tally import settings
from tally.common import timed as timed_in
from tally.common import utc_now

REPO = settings.REPO_ROOT
PYTHON = sys.executable
TALLY = [PYTHON, "-m", "tally"]
DBT = str(Path(PYTHON).with_name("dbt"))
timed = partial(timed_in, cwd=REPO)
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
    "tab tiles": "select * from marts.live_channel_statistics where campaign_id = ?",
    "email statistics table": "select * from marts.live_delivery_statistics where campaign_id = ? order by execution_started_at",
    "24h chart": "select hour_start, sent, delivered, bounces, errors from marts.live_channel_timeseries "
    "where campaign_id = ? order by hour_start",
    "bounce reasons": "select reason, events, share_of_kind from marts.live_channel_reasons where campaign_id = ? "
    "and reason_kind = 'bounce'",
    "best domains": "select recipient_domain, cast(sum(openers) as bigint) as openers from marts.live_recipient_domains "
    "where campaign_id = ? group by 1 order by 2 desc limit 10",
    "period tiles (vars)": "select * from marts.period_channel_report where campaign_id = ?",
    "top links (vars)": "select url, clicks, share_of_clickers from marts.period_campaign_top_links where campaign_id = ? "
    "and link_rank <= 10",
}


def floor_seconds(warehouse: Path) -> float:
    """The floor: FLOOR_SQL on the warehouse's raw tables, best of two runs."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        times = []
        for _ in range(2):
            started = time.perf_counter()
            con.execute(FLOOR_SQL).fetchall()
            times.append(time.perf_counter() - started)
        return min(times)
    finally:
        con.close()


REFRESHES = 10
BATCH_MINUTES = 5


def split_batches(generated: Path, history: Path, batches: Path, now: datetime) -> int:
    """History is what arrived up to now - 10 x 5 minutes; then ten batches of 5 minutes of
    arrivals, landed one after the other (a file per table, named for the watcher). Later
    arrivals are the future and are left out. Returns the events of the ten batches."""
    con = duckdb.connect()
    cutoff = now - timedelta(minutes=REFRESHES * BATCH_MINUTES)
    history.mkdir(parents=True, exist_ok=True)
    batches.mkdir(parents=True, exist_ok=True)
    arrival = "coalesce(try_cast(ingested_at as timestamp), timestamp '1970-01-01')"
    new_rows = 0
    for table in TABLES:
        source = f"read_parquet('{generated}/{table}.parquet')"
        keep = "true" if table == "campaigns" else f"{arrival} <= '{cutoff}'"
        con.execute(f"copy (select * from {source} where {keep}) to '{history}/{table}.parquet' (format parquet)")
        if table == "campaigns":
            continue
        for index in range(REFRESHES):
            low = cutoff + timedelta(minutes=BATCH_MINUTES * index)
            high = low + timedelta(minutes=BATCH_MINUTES)
            batch = f"select * from {source} where {arrival} > '{low}' and {arrival} <= '{high}'"
            folder = batches / f"batch_{index:02d}"
            folder.mkdir(exist_ok=True)
            con.execute(f"copy ({batch}) to '{folder}/{table}-{index:02d}.parquet' (format parquet)")
            new_rows += con.execute(f"select count(*) from ({batch})").fetchone()[0]
    con.close()
    return new_rows


def refresh_log(warehouse: Path) -> list[dict]:
    path = warehouse.with_name(warehouse.stem + ".refresh-log.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def consecutive_refreshes(warehouse: Path, batches: Path, work: Path, env: dict[str, str]) -> list[float]:
    """The refresh service (tally watch, dbt kept in the process): after its first
    refresh, ten batches landed one at a time, each waited for; returns each refresh's
    duration from its log line (load + dbt + publish)."""
    landing = work / "landing"
    landing.mkdir()
    log = (work / "watcher.log").open("w")
    watcher = subprocess.Popen([*TALLY, "refresh", "--warehouse", str(warehouse), "--watch", str(landing),
                                "--every", "3600", "--poll", "0.2"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    durations = []
    try:
        def wait_for(count: int) -> dict:
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                entries = [e for e in refresh_log(warehouse) if e["status"] in ("published", "failed")]
                if len(entries) >= count:
                    return entries[count - 1]
                if watcher.poll() is not None:
                    raise SystemExit(f"the watcher exited ({watcher.returncode}); see {work / 'watcher.log'}")
                time.sleep(0.2)
            raise SystemExit(f"no refresh within 15 minutes; see {work / 'watcher.log'}")

        wait_for(1)  # the first refresh parses the project and creates what is missing
        for index in range(REFRESHES):
            for path in sorted((batches / f"batch_{index:02d}").glob("*.parquet")):
                hidden = landing / f".{path.name}"
                shutil.copyfile(path, hidden)
                os.replace(hidden, landing / path.name)
            entry = wait_for(index + 2)
            if entry["status"] != "published":
                raise SystemExit(f"refresh {index} failed: {entry.get('reason')}")
            durations.append(entry["seconds"])
    finally:
        watcher.terminate()
        watcher.wait(timeout=300)
        log.close()
    return durations


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def layout_load_times(events: int, work: Path, env: dict[str, str], ajo_format: str, repeats: int) -> dict[str, float | str]:
    """The same N events in both layouts (tally generate --layout both): the flat files
    loaded by the flat layout, one invocation per table as in load_s; the platform's exports
    by --layout ajo in one invocation, plus the in-app and web interactions (the team's own
    datasets) flat. Wall and CPU seconds of the loaders, best of `repeats` fresh loads."""
    out = work / "layouts"
    timed([*TALLY, "generate", "--events", str(events), "--layout", "both",
           "--ajo-format", ajo_format, "--out", str(out)], env)
    exports = sorted(str(path) for path in (out / "ajo").glob("ajo_*"))
    loads = {
        "flat": [[*TALLY, "load", "--quiet", "--table", table, str(out / "flat" / f"{table}.parquet")]
                 for table in TABLES],
        "ajo": [[*TALLY, "load", "--quiet", "--layout", "ajo", "--table", "auto", *exports],
                [*TALLY, "load", "--quiet", "--table", "message_tracking_events",
                 str(out / "ajo" / "message_tracking_events.parquet")]],
    }
    loads["ajo_skip_records"] = [[*loads["ajo"][0][:3], "--skip-records", *loads["ajo"][0][3:]], loads["ajo"][1]]
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for layout, commands in loads.items():
            warehouse = work / f"layout_{layout}.duckdb"
            warehouse.unlink(missing_ok=True)
            run_env = dict(env, WAREHOUSE_PATH=str(warehouse))
            cpu, started = children_cpu_s(), time.perf_counter()
            for command in commands:
                timed(command, run_env)
            wall, cpu = time.perf_counter() - started, children_cpu_s() - cpu
            best[layout] = min(best.get(layout, (wall, cpu)), (wall, cpu))
    return {
        "ajo_format": ajo_format,
        "load_flat_same_events_s": best["flat"][0], "load_ajo_s": best["ajo"][0],
        "load_ajo_over_flat": best["ajo"][0] / best["flat"][0],
        "load_flat_same_events_cpu_s": best["flat"][1], "load_ajo_cpu_s": best["ajo"][1],
        "load_ajo_over_flat_cpu": best["ajo"][1] / best["flat"][1],
        "load_ajo_skip_records_s": best["ajo_skip_records"][0],
        "load_ajo_skip_records_over_flat": best["ajo_skip_records"][0] / best["flat"][0],
        "load_ajo_skip_records_over_flat_cpu": best["ajo_skip_records"][1] / best["flat"][1],
    }


def run_size(events: int, work: Path, repeats: int, ajo_format: str = "none",
             layouts_only: bool = False) -> dict[str, float | int | str]:
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    warehouse = work / "warehouse.duckdb"
    env["WAREHOUSE_PATH"] = str(warehouse)
    result: dict[str, float | int | str] = {"events": events}
    if ajo_format != "none":
        result.update(layout_load_times(events, work, env, ajo_format, 2 if layouts_only else 1))
    if layouts_only:
        return result
    started = time.perf_counter()
    generated, now = generate_ending_now(events, work, env)
    result["generate_s"] = time.perf_counter() - started
    history, batches = work / "history", work / "batches"
    result["new_events_50min"] = split_batches(generated, history, batches, now)
    started = time.perf_counter()
    for table in TABLES:
        timed([*TALLY, "load", "--quiet", "--table", table, str(history / f"{table}.parquet")], env)
    result["load_s"] = time.perf_counter() - started
    # Models and every test, then the models alone (a second full rebuild), as of now.
    result["full_build_s"] = timed([DBT, "build", "--full-refresh"], env)
    result["full_run_s"] = timed([DBT, "run", "--full-refresh"], env)
    result["floor_s"] = floor_seconds(warehouse)
    durations = consecutive_refreshes(warehouse, batches, work, env)
    result["refresh_median_s"] = statistics.median(durations)
    result["refresh_max_s"] = max(durations)
    result["refresh_s_each"] = ", ".join(f"{d:.2f}" for d in durations)
    serving = warehouse.with_name("serving.duckdb")
    con = duckdb.connect(str(serving), read_only=True)
    campaign = con.execute(
        "select campaign_id from marts.live_channel_statistics order by sent desc limit 1"
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
    result.update(query_time_periods(serving))
    result["warehouse_mib"] = round(warehouse.stat().st_size / 2**20)
    result["serving_mib"] = round(serving.stat().st_size / 2**20)
    result["build_over_floor"] = result["full_build_s"] / result["floor_s"]
    result["run_over_floor"] = result["full_run_s"] / result["floor_s"]
    return result


def generate_ending_now(events: int, work: Path, env: dict[str, str]) -> tuple[Path, datetime]:
    """N generated events placed so that their busiest arrivals end now (the 90th
    percentile of arrival times is now): the live window then holds a busy day."""
    probe = work / "probe"
    timed([*TALLY, "generate", "--events", "20000", "--out", str(probe)], env)
    con = duckdb.connect()
    offset = con.execute(
        "select quantile_disc(try_cast(ingested_at as timestamp), 0.9) - timestamp '2026-11-01 00:00:00' "
        f"from read_parquet('{probe}/message_feedback_events.parquet')"
    ).fetchone()[0]
    con.close()
    now = utc_now().replace(microsecond=0)
    generated = work / "generated"
    start = (now - offset).strftime("%Y-%m-%d %H:%M:%S")
    timed([*TALLY, "generate", "--events", str(events), "--start", start, "--out", str(generated)], env)
    return generated, now


def history_ending_now(events: int, work: Path, env: dict[str, str]) -> tuple[Path, datetime]:
    """Generated events whose busiest arrivals end now, without the later arrivals."""
    generated, now = generate_ending_now(events, work, env)
    history = work / "history"
    history.mkdir()
    con = duckdb.connect()
    for table in TABLES:
        source = f"read_parquet('{generated}/{table}.parquet')"
        arrival = "coalesce(try_cast(ingested_at as timestamp), timestamp '1970-01-01')"
        keep = "true" if table == "campaigns" else f"{arrival} <= '{now}'"
        con.execute(f"copy (select * from {source} where {keep}) to '{history}/{table}.parquet' (format parquet)")
    con.close()
    return history, now


SOAK_CAMPAIGN = "soak_campaign"


def land_tick(con: duckdb.DuckDBPyConnection, landing: Path, tick: int, events: int) -> list[Path]:
    """Writes one tick's events (sent + delivered per new message, an open for one in ten)
    with event times spread over the second before landing, each file written under a
    hidden name and renamed into the landing folder (the landing protocol)."""
    landed_at = utc_now()
    messages = max(1, round(events / 2.1))
    ts = f"timestamp '{landed_at}' - to_microseconds(cast(range * 1000000 / {messages} as bigint))"
    common = (f"'{SOAK_CAMPAIGN}' as campaign_id, 'soak_x1' as execution_id, 'soak_{tick}_' || range as message_id, "
              f"'soak_p' || (range % 5000) as profile_id, 'email' as channel")
    text = "strftime({ts}, '%Y-%m-%d %H:%M:%S.%f')"
    queries = {
        "message_feedback_events": (
            f"select 'soak_{tick}_' || range || '_' || status as event_id, {text.format(ts=ts)} as event_ts, {common}, "
            f"status from range({messages}) cross join (values ('sent'), ('delivered')) as statuses (status)"
        ),
        "message_tracking_events": (
            f"select 'soak_{tick}_' || range || '_open' as event_id, {text.format(ts=ts)} as event_ts, {common}, "
            f"'open' as interaction from range({messages}) where range % 10 = 0"
        ),
    }
    paths = []
    for table, query in queries.items():
        hidden = landing / f".{table}-soak-{tick:06d}.parquet"
        final = landing / f"{table}-soak-{tick:06d}.parquet"
        con.execute(f"copy ({query}) to '{hidden}' (format parquet)")
        os.replace(hidden, final)
        con.execute(
            f"insert into soak_events select '{final}', try_cast(event_ts as timestamp), timestamp '{utc_now()}' "
            f"from read_parquet('{final}')"
        )
        paths.append(final)
    return paths


def poll_publishes(serving: Path, seen: list[tuple], stop: threading.Event) -> None:
    """Records every publish a reader sees: its status row and the soak events it counts."""
    last = None
    while not stop.is_set():
        try:
            con = duckdb.connect(str(serving), read_only=True)
            try:
                status = con.execute("select published_at, window_start, window_end from marts.publish_status").fetchone()
                if status != last:
                    counted = con.execute(
                        "select coalesce(sum(sent + delivered + opens), 0) from marts.live_delivery_statistics "
                        "where campaign_id = ?", [SOAK_CAMPAIGN]).fetchone()[0]
                    seen.append((*status, int(counted), utc_now()))
                    last = status
            finally:
                con.close()
        except duckdb.Error:
            pass  # not published yet
        stop.wait(0.25)


def soak(events: int, minutes: float, rate: int, work: Path, every: float) -> dict[str, object]:
    """Sustained load: history of `events` ending now, then files landing every second at
    `rate` events/s for `minutes`, picked up by `tally watch`. Per event: the delay
    from the moment it becomes countable (landed, and 2 minutes old: the live window ends
    2 minutes before the report instant) to the publish that counts it, and from landing."""
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    warehouse = work / "warehouse.duckdb"
    env["WAREHOUSE_PATH"] = str(warehouse)
    history, _ = history_ending_now(events, work, env)
    for table in TABLES:
        timed([*TALLY, "load", "--quiet", "--table", table, str(history / f"{table}.parquet")], env)
    build_s = timed([DBT, "build", "--full-refresh", "--exclude", "tag:golden"], env)
    print(f"  history of {events:,} events loaded and built ({build_s:.0f} s); starting the watcher", flush=True)
    landing, serving = work / "landing", warehouse.with_name("serving.duckdb")
    landing.mkdir()
    watcher_log = (work / "watcher.log").open("w")
    watcher = subprocess.Popen(
        [*TALLY, "refresh", "--warehouse", str(warehouse), "--watch", str(landing), "--every", str(every)],
        cwd=REPO, env=env, stdout=watcher_log, stderr=subprocess.STDOUT)
    seen: list[tuple] = []
    stop = threading.Event()
    poller = threading.Thread(target=poll_publishes, args=(serving, seen, stop), daemon=True)
    poller.start()
    try:
        while not seen:  # the first publish (dbt parses the project once)
            if watcher.poll() is not None:
                raise SystemExit(f"the watcher exited ({watcher.returncode}); see {work / 'watcher.log'}")
            time.sleep(0.5)
        con = duckdb.connect()
        con.execute("create table soak_events (file varchar, event_ts timestamp, landed_at timestamp)")
        started, tick = time.monotonic(), 0
        while time.monotonic() - started < minutes * 60:
            tick += 1
            land_tick(con, landing, tick, rate)
            time.sleep(max(0.0, started + tick - time.monotonic()))
        last_event = con.execute("select max(event_ts) from soak_events").fetchone()[0]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not (seen and seen[-1][2] >= last_event):
            time.sleep(1)
    finally:
        watcher.terminate()
        watcher.wait(timeout=300)
        stop.set()
        poller.join()
        watcher_log.close()
    return soak_delays(con, warehouse, seen, tick, rate, minutes, events)


def soak_delays(con: duckdb.DuckDBPyConnection, warehouse: Path, seen: list[tuple], ticks: int, rate: int,
                minutes: float, events: int) -> dict[str, object]:
    """Per-event delays from the refresh log (which run loaded each file, each publish's
    window), checked against what the reader actually saw in each publish."""
    log = [json.loads(line) for line in warehouse.with_name(warehouse.stem + ".refresh-log.jsonl").read_text().splitlines()]
    con.execute("create table runs (idx int, status varchar, published_at timestamp, window_end timestamp, seconds double)")
    con.execute("create table file_runs (file varchar, idx int)")
    for idx, entry in enumerate(log):
        con.execute("insert into runs values (?, ?, ?, ?, ?)",
                    [idx, entry["status"], entry.get("published_at"), entry.get("window_end"), entry.get("seconds")])
        if entry.get("files"):
            con.executemany("insert into file_runs values (?, ?)", [[file, idx] for file in entry["files"]])
    con.execute("""
        create table soak_counted as
        select
            events.*,
            (
                select min(runs.published_at) from runs
                where runs.status = 'published' and runs.idx >= file_runs.idx and runs.window_end >= events.event_ts
            ) as counted_at
        from soak_events as events
        inner join file_runs using (file)
    """)
    landed = con.execute("select count(*) from soak_events").fetchone()[0]
    counted = con.execute("select count(counted_at) from soak_counted").fetchone()[0]
    delays = con.execute("""
        select
            quantile_cont(epoch(counted_at - greatest(landed_at, event_ts + interval 2 minute)), [0.5, 0.95]),
            max(epoch(counted_at - greatest(landed_at, event_ts + interval 2 minute))),
            quantile_cont(epoch(counted_at - landed_at), [0.5, 0.95]),
            max(epoch(counted_at - landed_at))
        from soak_counted
    """).fetchone()
    # What a reader saw must be exactly the events the log says each publish counted.
    mismatches = 0
    for published_at, window_start, window_end, observed, _ in seen:
        expected = con.execute(
            "select count(*) from soak_counted where counted_at <= ? and event_ts > ? and event_ts <= ?",
            [published_at, window_start, window_end]).fetchone()[0]
        mismatches += expected != observed
    refresh_seconds = con.execute(
        "select median(seconds), max(seconds), count(*) filter (status = 'published'), count(*) filter (status = 'failed') "
        "from runs").fetchone()
    return {
        "history_events": events, "minutes": minutes, "rate_events_per_s": rate, "files_landed": ticks * 2,
        "events_landed": landed, "events_counted": counted, "events_never_counted": landed - counted,
        "publishes": refresh_seconds[2], "failed_refreshes": refresh_seconds[3],
        "refresh_median_s": refresh_seconds[0], "refresh_max_s": refresh_seconds[1],
        "after_countable_p50_s": delays[0][0], "after_countable_p95_s": delays[0][1], "after_countable_max_s": delays[1],
        "landing_to_counted_p50_s": delays[2][0], "landing_to_counted_p95_s": delays[2][1], "landing_to_counted_max_s": delays[3],
        "publishes_seen_by_reader": len(seen), "reader_mismatches": mismatches,
    }


def positive_events(text: str) -> int:
    value = int(text)
    if value < 10_000:
        raise argparse.ArgumentTypeError(f"expected at least 10000 events (N/10 is run too), got {value}")
    return value


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[int(fraction * (len(ordered) - 1))]


def query_time_periods(serving: Path, ranges: int = 50, seed: int = 7) -> dict[str, float]:
    """Reports answered at query time on the published file: one campaign's period report
    for random 30-day ranges (whole hours), every delivery's for a 30-day range, and the
    live KPI tiles of one campaign tab."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        first, last = con.execute("select min(activity_hour), max(activity_hour) from marts.fct_message_hours").fetchone()
        campaigns = [row[0] for row in con.execute("select distinct campaign_id from marts.period_channel_report order by 1").fetchall()]
        tabs = con.execute("select campaign_id, channel from marts.live_channel_statistics order by 1, 2").fetchall()
        rng = random.Random(seed)
        span_hours = max(1, int((last - first).total_seconds() // 3600))
        one_campaign, tiles = [], []
        for _ in range(ranges):
            start = first - timedelta(days=15) + timedelta(hours=rng.randrange(0, span_hours + 15 * 24))
            end = start + timedelta(days=30)
            started = time.perf_counter()
            con.execute(
                f"select * from marts.period_delivery_report_between(timestamp '{start}', timestamp '{end}') where campaign_id = ?",
                [rng.choice(campaigns)],
            ).fetchall()
            one_campaign.append((time.perf_counter() - started) * 1000)
            campaign, channel = rng.choice(tabs)
            started = time.perf_counter()
            con.execute("select * from marts.live_channel_statistics where campaign_id = ? and channel = ?", [campaign, channel]).fetchall()
            tiles.append((time.perf_counter() - started) * 1000)
        all_deliveries = []
        for _ in range(3):
            started = time.perf_counter()
            con.execute(
                f"select * from marts.period_delivery_report_between(timestamp '{first}', timestamp '{first + timedelta(days=30)}')"
            ).fetchall()
            all_deliveries.append(time.perf_counter() - started)
    finally:
        con.close()
    return {
        "period_campaign_p50_ms": statistics.median(one_campaign), "period_campaign_p95_ms": percentile(one_campaign, 0.95),
        "period_all_deliveries_s": statistics.median(all_deliveries),
        "live_tiles_p50_ms": statistics.median(tiles), "live_tiles_p95_ms": percentile(tiles, 0.95),
    }


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=positive_events, default=1_000_000, help="history size N (N/10 is run too)")
    parser.add_argument("--repeats", type=int, default=20, help="runs of each widget query")
    parser.add_argument("--work-dir", type=Path, help="keep files here (default: a temporary folder, removed)")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--soak", type=float, metavar="MINUTES",
                        help="instead: land files for MINUTES on top of --events of history, refreshed by tally watch")
    parser.add_argument("--rate", type=int, default=2000, help="soak: events landed per second (default 2000)")
    parser.add_argument("--every", type=float, default=60.0, help="soak: the watcher's --every (default 60)")
    parser.add_argument("--ajo-format", choices=["parquet", "json", "none"], default="parquet",
                        help="also time loading the same events as the platform's exports (--layout ajo) in this "
                        "format: load_ajo_s beside load_flat_same_events_s (default parquet; none: skip)")
    parser.add_argument("--layouts-only", action="store_true",
                        help="only the flat vs ajo load comparison (best of 2), no build, refresh or queries")
    args = parser.parse_args(argv)
    if args.layouts_only and args.ajo_format == "none":
        parser.error("--layouts-only needs an --ajo-format")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="benchmark-"))
    if args.soak:
        try:
            work.mkdir(parents=True, exist_ok=True)
            result = soak(args.events, args.soak, args.rate, work / f"soak-{int(time.time())}", args.every)
        finally:
            if args.work_dir is None:
                shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(result, indent=2, default=str))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str))
        return 0 if result["events_never_counted"] == 0 and result["reader_mismatches"] == 0 else 1
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
    small, large = results
    summary = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB",
        "runs": results,
        "refresh_n_over_n10": large["refresh_median_s"] / small["refresh_median_s"] if "refresh_median_s" in large else None,
        "peak_child_memory_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }
    rows = [
        ("events", "{:,}"), ("generate_s", "{:.1f}"), ("load_s", "{:.1f}"), ("full_build_s", "{:.1f}"),
        ("full_run_s", "{:.1f}"), ("floor_s", "{:.2f}"), ("build_over_floor", "{:.1f}x"), ("run_over_floor", "{:.1f}x"),
        ("new_events_50min", "{:,}"), ("refresh_median_s", "{:.2f}"), ("refresh_max_s", "{:.2f}"),
        ("widget_p50_ms", "{:.1f}"), ("widget_p95_ms", "{:.1f}"),
        ("period_campaign_p50_ms", "{:.1f}"), ("period_campaign_p95_ms", "{:.1f}"), ("period_all_deliveries_s", "{:.2f}"),
        ("live_tiles_p50_ms", "{:.1f}"), ("live_tiles_p95_ms", "{:.1f}"), ("warehouse_mib", "{:,}"), ("serving_mib", "{:,}"),
        ("load_flat_same_events_s", "{:.1f}"), ("load_ajo_s", "{:.1f}"), ("load_ajo_over_flat", "{:.2f}x"),
        ("load_flat_same_events_cpu_s", "{:.1f}"), ("load_ajo_cpu_s", "{:.1f}"), ("load_ajo_over_flat_cpu", "{:.2f}x"),
        ("load_ajo_skip_records_s", "{:.1f}"), ("load_ajo_skip_records_over_flat", "{:.2f}x"),
        ("load_ajo_skip_records_over_flat_cpu", "{:.2f}x"),
    ]
    print(f"\nbenchmark, {summary['date']}, {summary['machine']}")
    print(f"{'metric':<28s}{'N/10':>14s}{'N':>14s}")
    for key, fmt in rows:
        if key in large:
            print(f"{key:<28s}{fmt.format(small[key]):>14s}{fmt.format(large[key]):>14s}")
    if summary["refresh_n_over_n10"] is not None:
        print(f"refresh(N) / refresh(N/10) = {summary['refresh_n_over_n10']:.2f}")
    print(f"peak memory of any child process: {summary['peak_child_memory_mib']:,} MiB")
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0

