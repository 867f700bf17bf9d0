"""The soak (`tally bench --soak MINUTES`): files landed continuously on top of a history,
picked up by the refresh service, and each event's delay to being counted."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb

from tally.bench.local import DBT, REPO, TABLES, TALLY, generate_ending_now, timed
from tally.common import utc_now


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
    common = (
        f"'{SOAK_CAMPAIGN}' as campaign_id, 'soak_x1' as execution_id, 'soak_{tick}_' || range as message_id, "
        f"'soak_p' || (range % 5000) as profile_id, 'email' as channel"
    )
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
                        "where campaign_id = ?",
                        [SOAK_CAMPAIGN],
                    ).fetchone()[0]
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
        cwd=REPO,
        env=env,
        stdout=watcher_log,
        stderr=subprocess.STDOUT,
    )
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


def soak_delays(
    con: duckdb.DuckDBPyConnection, warehouse: Path, seen: list[tuple], ticks: int, rate: int, minutes: float, events: int
) -> dict[str, object]:
    """Per-event delays from the refresh log (which run loaded each file, each publish's
    window), checked against what the reader actually saw in each publish."""
    log = [json.loads(line) for line in warehouse.with_name(warehouse.stem + ".refresh-log.jsonl").read_text().splitlines()]
    con.execute("create table runs (idx int, status varchar, published_at timestamp, window_end timestamp, seconds double)")
    con.execute("create table file_runs (file varchar, idx int)")
    for idx, entry in enumerate(log):
        con.execute(
            "insert into runs values (?, ?, ?, ?, ?)",
            [idx, entry["status"], entry.get("published_at"), entry.get("window_end"), entry.get("seconds")],
        )
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
            [published_at, window_start, window_end],
        ).fetchone()[0]
        mismatches += expected != observed
    refresh_seconds = con.execute(
        "select median(seconds), max(seconds), count(*) filter (status = 'published'), count(*) filter (status = 'failed') "
        "from runs"
    ).fetchone()
    return {
        "history_events": events,
        "minutes": minutes,
        "rate_events_per_s": rate,
        "files_landed": ticks * 2,
        "events_landed": landed,
        "events_counted": counted,
        "events_never_counted": landed - counted,
        "publishes": refresh_seconds[2],
        "failed_refreshes": refresh_seconds[3],
        "refresh_median_s": refresh_seconds[0],
        "refresh_max_s": refresh_seconds[1],
        "after_countable_p50_s": delays[0][0],
        "after_countable_p95_s": delays[0][1],
        "after_countable_max_s": delays[1],
        "landing_to_counted_p50_s": delays[2][0],
        "landing_to_counted_p95_s": delays[2][1],
        "landing_to_counted_max_s": delays[3],
        "publishes_seen_by_reader": len(seen),
        "reader_mismatches": mismatches,
    }
