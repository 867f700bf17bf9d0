"""Watch mode never takes a file its writer is still writing (issue 21, item 7): a landed
file is loaded only once unchanged (size, mtime, inode) for the settle period, and only if
unchanged again when its load commits, else the load rolls back and the file waits.

The slow test is the reported loss, end to end: a writer that skips the hidden-name
protocol (header and 15 rows under the final name, 24 more 6 s later) against `tally
watch` with its default settle period. The others check the pieces in process."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, TALLY, project_env
from tally.load import flat
from tally.refresh import watch as refresh

HEADER = "event_id,event_ts,campaign_id,execution_id,message_id,profile_id,channel,status,failure_type,reason"


def rows(first: int, count: int) -> str:
    moment = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    return "".join(f"e{i},{moment},c1,x1,m{i},p{i},email,sent,,\n" for i in range(first, first + count))


def raw_counts(warehouse: Path) -> tuple[int, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*), count(distinct event_id) from raw.message_feedback_events").fetchone()
    finally:
        con.close()


def published(warehouse: Path) -> int:
    log = warehouse.with_name(warehouse.stem + ".refresh-log.jsonl")
    if not log.exists():
        return 0
    return sum(json.loads(line)["status"] in ("published", "failed") for line in log.read_text().splitlines())


@pytest.mark.slow
def test_a_file_written_in_place_is_loaded_whole_once(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    log = (tmp_path / "watch.log").open("w")
    watcher = subprocess.Popen(
        [*TALLY, "watch", str(landing), "--warehouse", str(warehouse), "--every", "3600", "--poll", "0.2"],
        cwd=REPO,
        env=project_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while published(warehouse) < 1 and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.2)
        assert published(warehouse) == 1, (tmp_path / "watch.log").read_text()[-3000:]
        # The writer: final name at once, header and 15 rows, 24 more 6 s later.
        target = landing / "message_feedback_events-inplace.csv"
        with target.open("w") as handle:
            handle.write(HEADER + "\n" + rows(0, 15))
            handle.flush()
            time.sleep(6)
            handle.write(rows(15, 24))
        loaded = landing / "loaded" / target.name
        while not loaded.exists() and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.2)
        assert loaded.exists(), (tmp_path / "watch.log").read_text()[-3000:]
    finally:
        watcher.terminate()
        watcher.wait(timeout=300)
        log.close()
    assert raw_counts(warehouse) == (39, 39), (tmp_path / "watch.log").read_text()[-3000:]
    assert len(loaded.read_text().splitlines()) == 40


def test_a_file_is_ready_only_after_the_settle_period_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "message_feedback_events-1.csv"
    path.write_text(HEADER + "\n" + rows(0, 15))
    settling = refresh.Settling(10.0)
    assert settling.ready([path], now=100.0) == []
    assert settling.ready([path], now=109.0) == []
    with path.open("a") as handle:
        handle.write(rows(15, 24))
    assert settling.ready([path], now=109.5) == []  # changed: the period starts again
    assert settling.ready([path], now=119.0) == []
    assert settling.ready([path], now=119.5) == [path]
    settling.unchanged([path])  # unchanged since it was found ready: no error
    # A file that vanished is forgotten; no settle period takes a file at first sight.
    assert refresh.Settling(0.0).ready([path], now=0.0) == [path]
    path.unlink()
    assert settling.ready([path], now=130.0) == []


def test_a_file_changed_during_its_load_rolls_the_load_back(tmp_path: Path) -> None:
    path = tmp_path / "message_feedback_events-1.csv"
    path.write_text(HEADER + "\n" + rows(0, 15))
    settling = refresh.Settling(0.0)
    assert settling.ready([path], now=0.0) == [path]
    prepared = flat.check_files("message_feedback_events", [path])

    def writer_appends_then_check(paths: list[Path]) -> None:
        with path.open("a") as handle:
            handle.write(rows(15, 24))
        settling.unchanged(paths)

    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(refresh.FileChanged, match="changed while"):
        flat.load_prepared(warehouse, "message_feedback_events", prepared, quiet=True, before_commit=writer_appends_then_check)
    assert raw_counts(warehouse) == (0, 0)
    # The next pass: the file settles again and loads whole.
    assert settling.ready([path], now=1.0) == [path]
    flat.load_prepared(
        warehouse,
        "message_feedback_events",
        flat.check_files("message_feedback_events", [path]),
        quiet=True,
        before_commit=settling.unchanged,
    )
    assert raw_counts(warehouse) == (39, 39)


def test_watch_has_a_settle_option_with_a_default() -> None:
    result = subprocess.run([*TALLY, "watch", "--help"], cwd=REPO, env=project_env(), capture_output=True, text=True)
    text = " ".join(result.stdout.split())
    assert "--settle" in text and "(default 10;" in text
