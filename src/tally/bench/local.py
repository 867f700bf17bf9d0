"""The benchmark at sizes N/10 and N (`tally bench`): the floor, the full build and run, the
refreshes, the widget and period queries, the two layouts' loads. The command and what it
measures are described in tally.bench.command."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb

from tally import settings
from tally.bench import same_work
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


def same_work_floor(warehouse: Path) -> dict[str, float | int | str]:
    """The same-work floor (tally.bench.same_work): the build's model work up to its main
    outputs as one DuckDB script, no dbt, on the same raw tables as the dbt run just before
    it; its wall and CPU seconds, and whether its tables equal the build's row for row
    (same_work_unequal_rows: 0, else the tables that differ). Its schema is dropped after."""
    cpu = time.process_time()
    seconds = same_work.run(warehouse)
    cpu = time.process_time() - cpu
    unequal = {name: rows for name, rows in same_work.differences(warehouse).items() if rows}
    same_work.drop(warehouse)
    return {
        "same_work_s": seconds,
        "same_work_cpu_s": cpu,
        "same_work_unequal_rows": sum(unequal.values()),
        "same_work_unequal_tables": ", ".join(unequal) or "none",
    }


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


def consecutive_refreshes(warehouse: Path, batches: Path, work: Path, env: dict[str, str]) -> list[dict]:
    """The refresh service (tally watch, dbt kept in the process): after its first
    refresh, ten batches landed one at a time, each waited for; returns each refresh's log
    line: its duration in `seconds` (load + dbt + publish) and each step's in `step_seconds`."""
    landing = work / "landing"
    landing.mkdir()
    log = (work / "watcher.log").open("w")
    watcher = subprocess.Popen(
        [*TALLY, "refresh", "--warehouse", str(warehouse), "--watch", str(landing), "--every", "3600", "--poll", "0.2"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
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
            durations.append(entry)
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
    timed([*TALLY, "generate", "--events", str(events), "--layout", "both", "--ajo-format", ajo_format, "--out", str(out)], env)
    exports = sorted(str(path) for path in (out / "ajo").glob("ajo_*"))
    loads = {
        "flat": [[*TALLY, "load", "--quiet", "--table", table, str(out / "flat" / f"{table}.parquet")] for table in TABLES],
        "ajo": [
            [*TALLY, "load", "--quiet", "--layout", "ajo", "--table", "auto", *exports],
            [
                *TALLY,
                "load",
                "--quiet",
                "--table",
                "message_tracking_events",
                str(out / "ajo" / "message_tracking_events.parquet"),
            ],
        ],
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
        "load_flat_same_events_s": best["flat"][0],
        "load_ajo_s": best["ajo"][0],
        "load_ajo_over_flat": best["ajo"][0] / best["flat"][0],
        "load_flat_same_events_cpu_s": best["flat"][1],
        "load_ajo_cpu_s": best["ajo"][1],
        "load_ajo_over_flat_cpu": best["ajo"][1] / best["flat"][1],
        "load_ajo_skip_records_s": best["ajo_skip_records"][0],
        "load_ajo_skip_records_over_flat": best["ajo_skip_records"][0] / best["flat"][0],
        "load_ajo_skip_records_over_flat_cpu": best["ajo_skip_records"][1] / best["flat"][1],
    }


def run_size(
    events: int, work: Path, repeats: int, ajo_format: str = "none", layouts_only: bool = False
) -> dict[str, float | int | str]:
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
    result.update(same_work_floor(warehouse))
    entries = consecutive_refreshes(warehouse, batches, work, env)
    durations = [entry["seconds"] for entry in entries]
    result["refresh_median_s"] = statistics.median(durations)
    result["refresh_max_s"] = max(durations)
    result["refresh_s_each"] = ", ".join(f"{d:.2f}" for d in durations)
    result.update(step_figures(entries))
    serving = warehouse.with_name("serving.duckdb")
    con = duckdb.connect(str(serving), read_only=True)
    campaign = con.execute("select campaign_id from marts.live_channel_statistics order by sent desc limit 1").fetchone()[0]
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
    # The same one-campaign reports by a reader that keeps the Parquet footers (a pooled BI
    # connection with parquet_metadata_cache set; docs/operations.md): beside, not instead.
    cached = query_time_periods(serving, metadata_cache=True)
    result["period_campaign_cached_p50_ms"] = cached["period_campaign_p50_ms"]
    result["period_campaign_cached_p95_ms"] = cached["period_campaign_p95_ms"]
    result["warehouse_mib"] = round(warehouse.stat().st_size / 2**20)
    result["serving_mib"] = round(serving.stat().st_size / 2**20)
    result["build_over_floor"] = result["full_build_s"] / result["floor_s"]
    result["run_over_floor"] = result["full_run_s"] / result["floor_s"]
    result["same_work_over_floor"] = result["same_work_s"] / result["floor_s"]
    result["build_over_same_work"] = result["full_build_s"] / result["same_work_s"]
    result["run_over_same_work"] = result["full_run_s"] / result["same_work_s"]
    return result


# The refresh log's steps (tally.refresh.run): load, dbt build, publish.
STEPS = {"load": "load", "dbt": "dbt build", "publish": "publish"}


def step_figures(entries: list[dict], prefix: str = "") -> dict[str, float | str]:
    """Each step's median over the refreshes (`<prefix>refresh_<step>_median_s`), the
    publish's max, and each publish's seconds, from the refresh log's `step_seconds`."""
    seconds = {step: [entry["step_seconds"].get(name, 0.0) for entry in entries] for step, name in STEPS.items()}
    figures: dict[str, float | str] = {
        f"{prefix}refresh_{step}_median_s": statistics.median(values) for step, values in seconds.items()
    }
    figures[f"{prefix}refresh_publish_max_s"] = max(seconds["publish"])
    figures[f"{prefix}refresh_publish_s_each"] = ", ".join(f"{value:.2f}" for value in seconds["publish"])
    return figures


def generate_ending_now(events: int, work: Path, env: dict[str, str], days: int = 14) -> tuple[Path, datetime]:
    """N generated events (executions starting over `days` days) placed so that their
    busiest arrivals end now (the 90th percentile of arrival times is now): the live window
    then holds a busy day."""
    probe = work / "probe"
    timed([*TALLY, "generate", "--events", "20000", "--days", str(days), "--out", str(probe)], env)
    con = duckdb.connect()
    offset = con.execute(
        "select quantile_disc(try_cast(ingested_at as timestamp), 0.9) - timestamp '2026-11-01 00:00:00' "
        f"from read_parquet('{probe}/message_feedback_events.parquet')"
    ).fetchone()[0]
    con.close()
    now = utc_now().replace(microsecond=0)
    generated = work / "generated"
    start = (now - offset).strftime("%Y-%m-%d %H:%M:%S")
    timed([*TALLY, "generate", "--events", str(events), "--days", str(days), "--start", start, "--out", str(generated)], env)
    return generated, now


HISTORY_FACTOR = 4
HISTORY_DAYS = 14


def history_ratio(events: int, work: Path) -> dict[str, float | int | str]:
    """Refresh of the same 5-minute batches, at the same event rate, on a history 4 times
    longer. One generation of 4N events over 4 x 14 days ending now; the long history is
    all of it up to the ten batches, the short one only its last 14 days of arrivals (about
    N events: the same daily rate); the same ten batch files are then landed on each,
    after a `dbt run --full-refresh` of its history. Median refresh (load + dbt + publish)
    and median dbt and publish steps on each, and long over short, against the target 1.1x."""
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    generated, now = generate_ending_now(events * HISTORY_FACTOR, work, env, days=HISTORY_DAYS * HISTORY_FACTOR)
    histories = {"long": work / "history_long", "short": work / "history_short"}
    batches = work / "batches"
    result: dict[str, float | int | str] = {
        "history_days_short": HISTORY_DAYS,
        "history_days_long": HISTORY_DAYS * HISTORY_FACTOR,
    }
    result["history_new_events_50min"] = split_batches(generated, histories["long"], batches, now)
    cut = now - timedelta(minutes=REFRESHES * BATCH_MINUTES) - timedelta(days=HISTORY_DAYS)
    histories["short"].mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for table in TABLES:
        source = f"read_parquet('{histories['long']}/{table}.parquet')"
        keep = "true" if table == "campaigns" else f"try_cast(ingested_at as timestamp) > '{cut}'"
        con.execute(f"copy (select * from {source} where {keep}) to '{histories['short']}/{table}.parquet' (format parquet)")
    for name, history in histories.items():
        result[f"history_{name}_events"] = sum(
            con.execute(f"select count(*) from read_parquet('{history}/{table}.parquet')").fetchone()[0]
            for table in TABLES
            if table != "campaigns"
        )
    con.close()
    for name in ("short", "long"):
        folder = work / f"refresh_{name}"
        folder.mkdir()
        warehouse = folder / "warehouse.duckdb"
        run_env = dict(env, WAREHOUSE_PATH=str(warehouse))
        for table in TABLES:
            timed([*TALLY, "load", "--quiet", "--table", table, str(histories[name] / f"{table}.parquet")], run_env)
        timed([DBT, "seed", "--full-refresh"], run_env)
        result[f"history_{name}_full_run_s"] = timed([DBT, "run", "--full-refresh"], run_env)
        entries = consecutive_refreshes(warehouse, batches, folder, run_env)
        result[f"history_{name}_refresh_median_s"] = statistics.median(entry["seconds"] for entry in entries)
        result[f"history_{name}_refresh_dbt_median_s"] = statistics.median(
            entry["step_seconds"]["dbt build"] for entry in entries
        )
        steps = step_figures(entries)
        result[f"history_{name}_refresh_publish_median_s"] = steps["refresh_publish_median_s"]
        result[f"history_{name}_refresh_publish_max_s"] = steps["refresh_publish_max_s"]
        result[f"history_{name}_refresh_publish_s_each"] = steps["refresh_publish_s_each"]
        result[f"history_{name}_refresh_s_each"] = ", ".join(f"{entry['seconds']:.2f}" for entry in entries)
    result["history_refresh_long_over_short"] = result["history_long_refresh_median_s"] / result["history_short_refresh_median_s"]
    result["history_refresh_dbt_long_over_short"] = (
        result["history_long_refresh_dbt_median_s"] / result["history_short_refresh_dbt_median_s"]
    )
    result["history_refresh_publish_long_over_short"] = (
        result["history_long_refresh_publish_median_s"] / result["history_short_refresh_publish_median_s"]
    )
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[int(fraction * (len(ordered) - 1))]


def query_time_periods(serving: Path, ranges: int = 50, seed: int = 7, metadata_cache: bool = False) -> dict[str, float]:
    """Reports answered at query time on the published file: one campaign's period report
    for random 30-day ranges (whole hours), every delivery's for a 30-day range, and the
    live KPI tiles of one campaign tab. `metadata_cache`: the reader keeps the Parquet
    files' footers between queries (DuckDB's parquet_metadata_cache, a reader setting;
    safe on the serving files, which are never rewritten under their name)."""
    con = duckdb.connect(str(serving), read_only=True)
    if metadata_cache:
        con.execute("set parquet_metadata_cache = true")
    try:
        first, last = con.execute("select min(activity_hour), max(activity_hour) from marts.fct_message_hours").fetchone()
        campaigns = [
            row[0] for row in con.execute("select distinct campaign_id from marts.period_channel_report order by 1").fetchall()
        ]
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
            con.execute(
                "select * from marts.live_channel_statistics where campaign_id = ? and channel = ?", [campaign, channel]
            ).fetchall()
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
        "period_campaign_p50_ms": statistics.median(one_campaign),
        "period_campaign_p95_ms": percentile(one_campaign, 0.95),
        "period_all_deliveries_s": statistics.median(all_deliveries),
        "live_tiles_p50_ms": statistics.median(tiles),
        "live_tiles_p95_ms": percentile(tiles, 0.95),
    }
