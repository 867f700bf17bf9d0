"""The loader: contract checks on columns, atomic appends, no double loads, all formats."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tally.cli import main as tally

HEADER = "event_id,event_ts,campaign_id,execution_id,message_id,profile_id,channel,status,failure_type,reason"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "w.duckdb"


def test_csv_lands_as_text_and_ingested_at_is_filled(tmp_path: Path, warehouse: Path) -> None:
    csv = write(tmp_path / "a.csv", f"{HEADER}\ne1,2026-11-01 10:00:00,c,x,m,p,email,sent,,\ne2,not-a-date,c,x,m,p,FAX,lost,,\n")
    assert tally(["load", "--warehouse", str(warehouse), "--table", "message_feedback_events", str(csv)]) == 0
    loaded = rows(
        warehouse,
        "select event_id, event_ts, channel, ingested_at is not null, _source_file from raw.message_feedback_events order by 1",
    )
    # A bad value is staging's business: the row lands exactly as received.
    assert loaded == [
        ("e1", "2026-11-01 10:00:00", "email", True, str(csv.resolve())),
        ("e2", "not-a-date", "FAX", True, str(csv.resolve())),
    ]


def test_same_file_twice_loads_once(tmp_path: Path, warehouse: Path) -> None:
    csv = write(tmp_path / "a.csv", f"{HEADER}\ne1,2026-11-01 10:00:00,c,x,m,p,email,sent,,\n")
    for _ in range(2):
        assert tally(["load", "--warehouse", str(warehouse), "--table", "message_feedback_events", str(csv)]) == 0
    assert rows(warehouse, "select count(*) from raw.message_feedback_events") == [(1,)]


@pytest.mark.parametrize(
    ("content", "expected_message"),
    [
        ("event_id,event_ts\ne1,2026-11-01 10:00:00\n", "missing required column 'campaign_id'"),
        (f"{HEADER},shoe_size\ne1,2026-11-01 10:00:00,c,x,m,p,email,sent,,,42\n", "unexpected column 'shoe_size'"),
        ("", "the file is empty"),
        (f"{HEADER}\n", "the file is empty (a header, no rows)"),
    ],
)
def test_columns_that_do_not_fit_are_refused_and_nothing_loads(
    tmp_path: Path, warehouse: Path, capsys: pytest.CaptureFixture[str], content: str, expected_message: str
) -> None:
    good = write(tmp_path / "good.csv", f"{HEADER}\ne1,2026-11-01 10:00:00,c,x,m,p,email,sent,,\n")
    bad = write(tmp_path / "bad.csv", content)
    code = tally(["load", "--warehouse", str(warehouse), "--table", "message_feedback_events", str(good), str(bad)])
    assert code == 2
    error = capsys.readouterr().err
    assert str(bad.resolve()) in error and expected_message in error
    # One invocation is one transaction: the good file did not land either; every file is
    # checked before the warehouse is opened, so a new warehouse is not even created.
    assert not warehouse.exists()
    assert tally(["load", "--warehouse", str(warehouse), "--table", "message_feedback_events", str(good)]) == 0
    assert tally(["load", "--warehouse", str(warehouse), "--table", "message_feedback_events", str(good), str(bad)]) == 2
    assert rows(warehouse, "select count(*) from raw.message_feedback_events") == [(1,)]


def test_parquet_and_ndjson_load_with_typed_timestamps(tmp_path: Path, warehouse: Path) -> None:
    parquet = tmp_path / "t.parquet"
    con = duckdb.connect()
    con.execute(
        f"""copy (select 'p1' as event_id, timestamp '2026-11-01 10:00:00' as event_ts, 'c' as campaign_id,
        'x' as execution_id, 'm' as message_id, 'p' as profile_id, 'email' as channel, 'open' as interaction,
        42 as url) to '{parquet}' (format parquet)"""
    )
    con.close()
    ndjson = tmp_path / "t.ndjson"
    record = {
        "event_id": "j1",
        "event_ts": "2026-11-01T10:00:00Z",
        "campaign_id": "c",
        "execution_id": "x",
        "message_id": "m",
        "profile_id": "p",
        "channel": "web",
        "interaction": "impression",
    }
    ndjson.write_text(json.dumps(record) + "\n", encoding="utf-8")
    for path in (parquet, ndjson):
        assert tally(["load", "--warehouse", str(warehouse), "--table", "message_tracking_events", str(path)]) == 0
    assert rows(warehouse, "select event_id, event_ts, url from raw.message_tracking_events order by 1") == [
        ("j1", "2026-11-01T10:00:00Z", None),
        ("p1", "2026-11-01 10:00:00.000000", "42"),
    ]


def test_malformed_ndjson_is_refused(tmp_path: Path, warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ndjson = write(tmp_path / "bad.ndjson", '{"event_id": "j1", "event_ts": "2026-11-01 10:00:00"\nnot json\n')
    code = tally(["load", "--warehouse", str(warehouse), "--table", "message_tracking_events", str(ndjson)])
    assert code == 2
    assert str(ndjson.resolve()) in capsys.readouterr().err
