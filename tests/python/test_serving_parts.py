"""The serving catalog over immutable Parquet day files (tally.refresh.publish): a publish
killed midway leaves the previous one whole; a reader holding an old catalog keeps reading
the same data through later publishes and garbage collection; a late event into an old day
reaches the next publish; a publish by changed days equals a full publish, every relation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import compare
from conftest import PYTHON, REPO, TALLY, project_env, run
from tally.refresh.publish import (
    DELTA,
    DELTA_COLUMNS,
    PARTITIONED,
    PublishPlan,
    collect_garbage,
    current_manifest,
    parts_folder,
    publish,
)

# A refresh (dbt) builds the working warehouse the tests publish from.
pytestmark = pytest.mark.slow

KEYS = {
    "fct_message_hours": "message_key",
    "fct_failure_hours": "delivery_hour_key",
    "fct_link_click_hours": "message_hour_key",
    "fct_messages": "message_key",
    "fct_deliveries": "delivery_key",
}
PLAN = PublishPlan(keys=KEYS)
FEEDBACK = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "status"]
TRACKING = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "interaction"]

# Every relation of a serving file, summed up in another process (as a BI tool reads it):
# rows and an order-free hash of all their values; then, on each line read from stdin, again.
READER = r"""
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def sums():
    names = [row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
    return {name: [str(value) for value in con.execute(
        f'select count(*), sum(hash(t)::hugeint) from marts."{name}" as t').fetchone()] for name in names}
print(json.dumps(sums()), flush=True)
for _ in sys.stdin:
    print(json.dumps(sums()), flush=True)
"""


def summed(serving: Path) -> dict[str, list[str]]:
    result = subprocess.run([PYTHON, "-c", READER, str(serving)], input="", capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[0])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serving_parts")
    data = root / "events"
    run([*TALLY, "generate", "--events", "20000", "--days", "3", "--slices", "2", "--seed", "5", "--out", str(data)])
    warehouse = root / "built" / "warehouse.duckdb"
    first = sorted(map(str, (data / "slice_001").glob("*.parquet")))
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--report-as-of", "2026-11-03 06:00:00", *first])
    return {"root": root, "data": data, "warehouse": warehouse}


def working_copy(built: dict[str, Path], folder: Path) -> Path:
    """The built working warehouse, copied for one test (which may change its marts)."""
    folder.mkdir()
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(built["warehouse"], warehouse)
    return warehouse


def change(warehouse: Path, step: int) -> None:
    """What an incremental run does to the large facts, by hand: a few keys re-derived (one
    row each loaded now, another row's values changed without a newer load time, one row
    moved to the next day, so its old day loses it) and a new key in a day with no file yet."""
    con = duckdb.connect(str(warehouse))
    try:
        for name, (time_column, _) in PARTITIONED.items():
            key = KEYS[name]
            relation = f"marts.{name}"
            con.execute(
                f"create or replace temp table changed as select distinct {key} from {relation} "
                f"order by {key} limit 3 offset {step * 3}"
            )
            newer = f"(select max(last_loaded_at) from {relation}) + interval 1 minute"
            # Changed values in the keys' other rows, without a newer load time.
            number = next(
                column
                for column, kind in con.execute(f"select column_name, column_type from (describe {relation})").fetchall()
                if kind == "BIGINT" and column not in (key,)
            )
            con.execute(f'update {relation} set "{number}" = "{number}" + 1 where {key} in (select {key} from changed)')
            con.execute(
                f"update {relation} set {time_column} = {time_column} + interval 1 day where rowid in "
                f"(select min(rowid) from {relation} where {key} in (select {key} from changed) group by {key})"
            )
            con.execute(
                f"update {relation} set last_loaded_at = {newer} where rowid in "
                f"(select max(rowid) from {relation} where {key} in (select {key} from changed) group by {key})"
            )
            # A column every row of a re-derived key carries (the message's newest load):
            # newer on all of them, as the incremental run writes it.
            column = DELTA_COLUMNS.get(name, "last_loaded_at")
            if column != "last_loaded_at":
                con.execute(f"update {relation} set {column} = {newer} where {key} in (select {key} from changed)")
            replaced = f"{newer} as last_loaded_at" + (f", {newer} as {column}" if column != "last_loaded_at" else "")
            con.execute(
                f"insert into {relation} select * replace ({key} || '-new{step}' as {key}, "
                f"{time_column} - interval {10 + step} day as {time_column}, {replaced}) "
                f"from {relation} where {key} = (select min({key}) from changed) limit 1"
            )
    finally:
        con.close()


def test_a_publish_killed_midway_leaves_the_previous_one_whole(built: dict[str, Path], tmp_path: Path) -> None:
    warehouse = working_copy(built, tmp_path / "w")
    serving = warehouse.with_name("serving.duckdb")
    publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    before = summed(serving)
    change(warehouse, 1)
    change_small_marts(warehouse)
    # Killed after the next catalog was started as a copy of the current one, after writing
    # the first changed day's files, inside the catalog's transaction (small marts' rows
    # replaced, views re-created, not committed), and after the new catalog, its manifest
    # and its hard link, just before the rename.
    kills = {
        "after the catalog copy": "real = publish.start_from_current\n"
        "def start_from_current(*args):\n    assert real(*args)\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "publish.start_from_current = start_from_current\n",
        "after day files": "real = publish.write_days\n"
        "def write_days(*args):\n    real(*args)\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "publish.write_days = write_days\n",
        "inside the catalog transaction": "real = publish.copy_comments\n"
        "def copy_comments(con, *args):\n"
        "    assert con.execute('select count(*) from serving.marts.live_channel_statistics').fetchone()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "publish.copy_comments = copy_comments\n",
        "before the rename": "real = os.replace\n"
        "def replace(source, target):\n"
        "    if str(target) == sys.argv[2]:\n        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(source, target)\n"
        "os.replace = replace\n",
    }
    for point, patch in kills.items():
        script = (
            "import os, signal, sys\nfrom pathlib import Path\nfrom tally.refresh import publish\n"
            + patch
            + "publish.publish(Path(sys.argv[1]), Path(sys.argv[2]), {'failures_since_publish': 0}, "
            "plan=publish.PublishPlan(keys=dict(fct_message_hours='message_key', fct_failure_hours='delivery_hour_key', "
            "fct_link_click_hours='message_hour_key')))\n"
        )
        killed = subprocess.run([PYTHON, "-c", script, str(warehouse), str(serving)], cwd=REPO, env=project_env())
        assert killed.returncode == -9, f"{point}: the publish was not killed ({killed.returncode})"
        assert summed(serving) == before, f"killed {point}: a reader no longer sees the previous publish"
    leftovers = set(parts_folder(serving).rglob("*"))
    # The next publish completes, and its collection removes what the killed ones left.
    publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    collect_garbage(serving, grace_seconds=0)
    after = summed(serving)
    assert after != before
    con = duckdb.connect()
    try:
        compare.attach(con, working=warehouse, serving=serving)
        tables = compare.relations(con, "serving", exclude={"publish_status"}, base_tables_only=False)
        assert compare.relation_differences(con, "working", "serving", tables) == {}
    finally:
        con.close()
    listed = listed_files(serving)
    on_disk = set(parts_folder(serving).rglob("*.parquet"))
    assert on_disk == listed and leftovers - set(parts_folder(serving).rglob("*")), "the killed publishes' files stayed"


def listed_files(serving: Path) -> set[Path]:
    manifest = current_manifest(serving)
    assert manifest is not None
    return {parts_folder(serving) / path for entry in manifest["relations"].values() for path in entry["files"].values()}


def test_a_reader_holding_an_old_catalog_reads_the_same_data_through_publishes_and_collection(
    built: dict[str, Path], tmp_path: Path
) -> None:
    warehouse = working_copy(built, tmp_path / "w")
    serving = warehouse.with_name("serving.duckdb")
    publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    held_version = current_manifest(serving)["version"]
    held_files = listed_files(serving)
    reader = subprocess.Popen(
        [PYTHON, "-c", READER, str(serving)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        first = json.loads(reader.stdout.readline())
        for step in range(3):
            change(warehouse, step)
            publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
            reader.stdin.write("again\n")
            reader.stdin.flush()
            assert json.loads(reader.stdout.readline()) == first, f"the held reader's data changed at publish {step + 1}"
        collected = collect_garbage(serving, grace_seconds=0)
        # The two versions no reader held are gone; the held one and its files stay.
        assert collected["versions_kept"] == 2 and collected["versions_removed"] == 2, collected
        assert all(path.exists() for path in held_files)
        reader.stdin.write("again\n")
        reader.stdin.flush()
        assert json.loads(reader.stdout.readline()) == first, "the held reader's data changed after the collection"
        assert summed(serving) != first
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    assert reader.returncode == 0
    # Once the reader has let go, the next collection removes its version and every file
    # the current catalog does not list.
    collected = collect_garbage(serving, grace_seconds=0)
    assert collected["versions_kept"] == 1 and not (parts_folder(serving) / f"manifest-{held_version}.json").exists()
    assert set(parts_folder(serving).rglob("*.parquet")) == listed_files(serving)


@pytest.mark.parametrize("delta", [True, False], ids=["into the delta", "days rewritten"])
def test_a_late_event_into_an_old_day_reaches_the_next_publish(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delta: bool
) -> None:
    """With the default delta, the late event's message goes into a new delta file and no
    day file is written; with SERVING_DELTA_MAX_ROWS=0 (no delta), the days holding the
    message's rows are written again, and only those."""
    if not delta:
        monkeypatch.setenv("SERVING_DELTA_MAX_ROWS", "0")
    warehouse = working_copy(built, tmp_path / "w")
    serving = warehouse.with_name("serving.duckdb")
    as_of = ["--report-as-of", "2026-11-03 06:00:00"]
    run([*TALLY, "refresh", "--warehouse", str(warehouse), *as_of])
    con = duckdb.connect(str(serving), read_only=True)
    try:
        campaign, execution, message, profile, first_hour, opens = con.execute(
            "select campaign_id, execution_id, message_id, profile_id, activity_hour, opens from marts.fct_message_hours "
            "where channel = 'email' and sent = 1 order by activity_hour, message_key limit 1"
        ).fetchone()
    finally:
        con.close()
    old_day = first_hour.date().isoformat()
    files_before = current_manifest(serving)["relations"]["marts.fct_message_hours"]["files"]
    late = tmp_path / "message_tracking_events-late.csv"
    late.write_text(
        ",".join(TRACKING) + "\n" + f"late-open-1,{first_hour},{campaign},{execution},{message},{profile},email,open\n"
    )
    run([*TALLY, "refresh", "--warehouse", str(warehouse), *as_of, str(late)])
    entry = current_manifest(serving)["relations"]["marts.fct_message_hours"]
    files_after = entry["files"]
    con = duckdb.connect(str(serving), read_only=True)
    try:
        message_days = {
            row[0].isoformat()
            for row in con.execute(
                "select distinct cast(activity_hour as date) from marts.fct_message_hours where message_id = ?", [message]
            ).fetchall()
        }
        assert con.execute(
            "select opens from marts.fct_message_hours where message_id = ? and activity_hour = ?", [message, first_hour]
        ).fetchone() == (opens + 1,)
        rewritten = {day for day in files_before if day != DELTA and files_after.get(day) != files_before[day]}
        if delta:
            assert rewritten == set(), "a day file was written though the change fits in the delta"
            assert files_after[DELTA] != files_before.get(DELTA)
            in_delta = con.execute(
                "select count(*), count(*) filter (where message_id = ?) from read_parquet(?)",
                [message, str(parts_folder(serving) / files_after[DELTA])],
            ).fetchone()
            # The delta holds every row of the message (and of the other keys it holds).
            assert in_delta[1] == len(
                con.execute("select 1 from marts.fct_message_hours where message_id = ?", [message]).fetchall()
            )
            assert entry["delta_rows"] == in_delta[0] > 0
        else:
            assert DELTA not in files_after
            assert old_day in rewritten, "the old day's file was not rewritten"
            # Only the days holding that message's rows were written again.
            assert rewritten <= message_days
    finally:
        con.close()


def deltas(serving: Path) -> dict[str, int]:
    """The rows of each large relation's delta in the current publish (0: none)."""
    manifest = current_manifest(serving)
    assert manifest is not None
    return {name: entry["delta_rows"] if DELTA in entry["files"] else 0 for name, entry in manifest["relations"].items()}


@pytest.mark.parametrize("mode", ["deltas", "days", "compacted"])
def test_a_publish_by_changed_days_equals_a_full_publish(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Three publishes of changed keys, then a full publish of the same warehouse: equal,
    every relation. `deltas`: each publish adds to the delta files; `days`: no delta
    (SERVING_DELTA_MAX_ROWS=0), changed days rewritten; `compacted`: the limit set to the
    message hours' first delta's size, so their second publish compacts (its days
    rewritten, the delta dropped) and the third starts a new delta."""
    if mode == "days":
        monkeypatch.setenv("SERVING_DELTA_MAX_ROWS", "0")
    warehouse = working_copy(built, tmp_path / "w")
    serving = warehouse.with_name("serving.duckdb")
    publish(warehouse, serving, {"failures_since_publish": 0}, include_message_facts=True, plan=PLAN)
    seen = []
    for step in range(3):
        change(warehouse, step)
        publish(warehouse, serving, {"failures_since_publish": 0}, include_message_facts=True, plan=PLAN)
        seen.append(deltas(serving))
        if mode == "compacted" and step == 0:
            # The message hours' first delta: its second (more keys) passes it.
            monkeypatch.setenv("SERVING_DELTA_MAX_ROWS", str(seen[0]["marts.fct_message_hours"]))
    if mode == "days":
        assert all(rows == 0 for step in seen for rows in step.values()), seen
    else:
        assert all(rows > 0 for rows in seen[0].values()), seen
    if mode == "deltas":
        assert all(seen[2][name] >= seen[1][name] >= seen[0][name] for name in seen[0]), seen
    if mode == "compacted":
        # The message hours (whose delta is found by message_last_loaded_at) compacted a
        # delta of two publishes, then started a new one.
        hours = "marts.fct_message_hours"
        assert seen[1][hours] == 0 < seen[2][hours], f"no compaction, then new delta, of the message hours: {seen}"
    full = tmp_path / "full" / "serving.duckdb"
    full.parent.mkdir()
    publish(warehouse, full, {"failures_since_publish": 0}, include_message_facts=True, plan=None)
    con = duckdb.connect()
    try:
        compare.attach(con, working=warehouse, serving=serving, afresh=full)
        tables = compare.relations(con, "afresh", exclude={"publish_status"}, base_tables_only=False)
        assert {f"marts.{name}" for name in PARTITIONED} <= set(tables)
        assert compare.relations(con, "serving", exclude={"publish_status"}, base_tables_only=False) == tables
        assert compare.relation_differences(con, "afresh", "serving", tables) == {}
        assert compare.relation_differences(con, "working", "serving", tables) == {}
    finally:
        con.close()
    assert os.path.samefile(serving, parts_folder(serving) / f"catalog-{current_manifest(serving)['version']}.duckdb")


def catalog_definitions(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, set[tuple[object, ...]]]:
    """What a serving catalog defines besides rows: its relations and their kinds, columns
    and types, table and column comments, and its table functions with their comments."""
    return {
        "relations": set(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_catalog = ?", [catalog]
            ).fetchall()
        ),
        "table comments": set(
            con.execute("select table_name, comment from duckdb_tables() where database_name = ?", [catalog]).fetchall()
            + con.execute("select view_name, comment from duckdb_views() where database_name = ?", [catalog]).fetchall()
        ),
        "columns": set(
            con.execute(
                "select table_name, column_name, data_type, comment from duckdb_columns() where database_name = ?", [catalog]
            ).fetchall()
        ),
        "functions": set(
            con.execute(
                "select function_name, comment, parameters::varchar from duckdb_functions() "
                "where database_name = ? and function_type = 'table_macro'",
                [catalog],
            ).fetchall()
        ),
    }


def change_small_marts(warehouse: Path) -> None:
    """What a refresh or a new build does to the small marts: rows changed (a live mart), a
    column's description changed, a mart gone, a new mart, a table function's description
    changed."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "update marts.live_channel_statistics set sent = sent + 1 "
            "where rowid = (select min(rowid) from marts.live_channel_statistics)"
        )
        con.execute("comment on column marts.live_delivery_statistics.sent is 'Sent messages (a changed description).'")
        # A keyed fact copied whole into the catalog (synced there by key): a row changed,
        # a row gone, a new row.
        con.execute(
            "update marts.fct_deliveries set sent = sent + 1 where delivery_key = (select min(delivery_key) from marts.fct_deliveries)"
        )
        con.execute("delete from marts.fct_deliveries where delivery_key = (select max(delivery_key) from marts.fct_deliveries)")
        con.execute(
            "insert into marts.fct_deliveries select * replace (delivery_key || '-new' as delivery_key, 'new-execution' as execution_id) "
            "from marts.fct_deliveries where delivery_key = (select min(delivery_key) from marts.fct_deliveries)"
        )
        con.execute("drop table marts.live_offers")
        con.execute("create table marts.live_new_mart as select 1 as one")
        con.execute(
            "update marts.period_table_functions set description = description || ' (changed)' "
            "where function_name = (select min(function_name) from marts.period_table_functions)"
        )
    finally:
        con.close()


def test_a_catalog_started_from_the_previous_one_equals_a_fresh_publish(built: dict[str, Path], tmp_path: Path) -> None:
    warehouse = working_copy(built, tmp_path / "w")
    serving = warehouse.with_name("serving.duckdb")
    publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    # Nothing changed: every small mart and every view is kept as it was.
    unchanged = publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    assert unchanged.startswith("0 copied, 0 rows replaced") and "0 Parquet views written" in unchanged, unchanged
    # A new description on a large fact's column (a build with changed docs): its view is
    # written again though its files are the same.
    con = duckdb.connect(str(warehouse))
    try:
        column = con.execute("select column_name from (describe marts.fct_failure_hours) limit 1").fetchone()[0]
        con.execute(f"comment on column marts.fct_failure_hours.{column} is 'A changed description.'")
    finally:
        con.close()
    described = publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    assert "1 Parquet views written (0 day files, 0 delta files written)" in described, described
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute(
            "select comment from duckdb_columns() where table_name = 'fct_failure_hours' and column_name = ?", [column]
        ).fetchone() == ("A changed description.",)
    finally:
        con.close()
    change(warehouse, 0)
    change_small_marts(warehouse)
    summary = publish(warehouse, serving, {"failures_since_publish": 0}, plan=PLAN)
    # The new mart and the one whose description changed were re-created, the rows of the
    # live mart, of the functions' catalog and of fct_deliveries (by key) replaced, the
    # rest kept.
    assert summary.startswith("2 copied, 3 rows replaced"), summary
    fresh = tmp_path / "fresh" / "serving.duckdb"
    fresh.parent.mkdir()
    publish(warehouse, fresh, {"failures_since_publish": 0}, plan=PLAN)
    con = duckdb.connect()
    try:
        compare.attach(con, working=warehouse, serving=serving, fresh=fresh)
        assert catalog_definitions(con, "serving") == catalog_definitions(con, "fresh")
        tables = compare.relations(con, "fresh", exclude={"publish_status"}, base_tables_only=False)
        assert "marts.live_new_mart" in tables and "marts.live_offers" not in tables
        assert compare.relation_differences(con, "fresh", "serving", tables) == {}
        assert compare.relation_differences(con, "working", "serving", tables) == {}
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
