"""The independent reference implementation, the golden seeds it wrote, and the generator."""

from __future__ import annotations

import csv
import filecmp
import hashlib
from pathlib import Path

import duckdb

from conftest import REPO, TALLY, run

FEEDBACK = "event_id,event_ts,ingested_at,campaign_id,execution_id,message_id,profile_id,channel,status,failure_type,reason,recipient_address\n"
TRACKING = "event_id,event_ts,ingested_at,campaign_id,execution_id,message_id,profile_id,channel,interaction\n"


def reference(tmp_path: Path, feedback: str, tracking: str = "", *extra: str) -> dict[tuple[str, str, str], dict[str, str]]:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "message_feedback_events.csv").write_text(FEEDBACK + feedback, encoding="utf-8")
    (raw / "message_tracking_events.csv").write_text(TRACKING + tracking, encoding="utf-8")
    out = tmp_path / "out.csv"
    run([*TALLY, "golden", "--raw-dir", str(raw), "--out", str(out), *extra])
    with out.open(encoding="utf-8") as handle:
        return {(r["campaign_id"], r["execution_id"], r["channel"]): r for r in csv.DictReader(handle)}


def test_reference_dedup_retries_and_quarantines(tmp_path: Path) -> None:
    rows = reference(
        tmp_path,
        "f1,2026-11-01 10:00:00,2026-11-01 10:00:01,c,x,m1,p1,email,sent,,,a@x.com\n"
        "f1,2026-11-01 10:00:00,2026-11-01 10:05:00,c,x,m1,p1,EMAIL,Sent,,,a@x.com\n"  # identical copy
        "f1,2026-11-01 10:00:00,2026-11-01 10:09:00,c,x,m1,p1,email,error,,refused,a@x.com\n"  # conflicting copy
        "f2,2026-11-01 10:00:00,2026-11-01 10:00:01,c,x,m1,p1,email,retry,soft,mailbox_full,a@x.com\n"
        "f3,2026-11-01 10:00:00,2026-11-01 10:00:01,c,x,m2,p2,email,sent,,,b@x.com\n"
        "f4,2026-11-01 10:05:00,2026-11-01 10:05:01,c,x,m2,p2,email,retry,soft,mailbox_full,b@x.com\n"
        "f5,2026-11-01 11:00:00,2026-11-01 11:00:01,c,x,m2,p2,email,bounce,Hard,user_unknown,B@x.com\n"
        "f6,2026-11-02 11:00:00,2026-11-02 11:00:01,c,y,m3,p2,email,sent,,,b@x.com\n"
        "f7,2026-11-02 11:01:00,2026-11-02 11:01:01,c,y,m3,p2,email,bounce,hard,user_unknown,b@x.com\n",
    )
    first, second = rows[("c", "x", "email")], rows[("c", "y", "email")]
    assert (first["sent"], first["errors"], first["retries"], first["bounces"], first["hard_bounces"]) == (
        "2",
        "0",
        "1",
        "1",
        "1",
    )
    # b@x.com's first-ever hard bounce is in delivery x, not y.
    assert (first["new_quarantines"], second["new_quarantines"]) == ("1", "0")


def test_reference_live_window_edges(tmp_path: Path) -> None:
    rows = reference(
        tmp_path,
        "f1,2026-11-13 12:00:00,,c,x,m1,p1,sms,sent,,,\n"  # exactly 24 h old: out
        "f2,2026-11-14 11:58:00,,c,x,m2,p1,sms,sent,,,\n"  # exactly 2 min old: in
        "f3,2026-11-14 11:59:30,,c,x,m3,p1,sms,sent,,,\n",  # 30 s old: out
        "",
        "--mode",
        "live",
        "--report-as-of",
        "2026-11-14 12:00:00",
    )
    assert rows[("c", "x", "sms")]["sent"] == "1"


def test_golden_seeds_are_current(tmp_path: Path) -> None:
    """The committed golden seeds are what the reference implementation computes today."""
    run(["make", "-s", "golden", f"GOLDEN={tmp_path}"])
    golden = REPO / "seeds" / "golden"
    names = sorted(p.name for p in golden.glob("*.csv"))
    assert names == sorted(p.name for p in tmp_path.glob("*.csv"))
    stale = [name for name in names if not filecmp.cmp(golden / name, tmp_path / name, shallow=False)]
    assert not stale, f"golden seeds differ from tally golden (src/tally/reference.py) output: {stale}; run `make golden`"


def test_generator_is_deterministic_and_has_every_bad_row_kind(tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        run([*TALLY, "generate", "--events", "3000", "--format", "csv", "--seed", "5", "--out", str(tmp_path / name)])
        digests.append(hashlib.sha256((tmp_path / name / "message_feedback_events.csv").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    con = duckdb.connect()
    feedback = str(tmp_path / "a" / "message_feedback_events.csv")
    tracking = str(tmp_path / "a" / "message_tracking_events.csv")
    bad = con.execute(
        f"""select
            count(*) filter (event_id is null),
            count(*) filter (event_ts = 'not-a-date'),
            count(*) filter (event_ts like '2099%'),
            count(*) filter (channel = 'fax'),
            count(*) filter (status = 'lost'),
            count(*) filter (failure_type = 'medium')
        from read_csv('{feedback}', all_varchar = true)"""
    ).fetchone()
    assert all(count > 0 for count in bad), bad
    sms_opens = con.execute(
        f"select count(*) from read_csv('{tracking}', all_varchar = true) where channel = 'sms' and interaction = 'open'"
    ).fetchone()[0]
    assert sms_opens > 0
    duplicates = con.execute(
        f"select count(*) - count(distinct event_id) from read_csv('{feedback}', all_varchar = true)"
    ).fetchone()[0]
    assert duplicates > 0
