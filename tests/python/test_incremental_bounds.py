"""The incremental facts read history only from the earliest time the new loads can touch
(a constant the scan prunes row groups with): these are the edges of that bound, each
compared with a full refresh of the same loads, row by row.

- a late open days after the send re-derives every hour of its message, including the
  message's first hour, whose first event is exactly at the bound (>=, not >);
- a late click and a late failure into old hours re-count those hours whole;
- a late hard bounce that happened before the address's first one moves the address's
  quarantine to another delivery (both deliveries' new_quarantines change), and a later
  one leaves it there;
- a copy of an already staged event, same content then other content, and a load that
  touches nothing;
- weeks later, copies of old events (same content, then another event time) must still be
  found among the staged events, and a late open into an old delivery re-derives that
  delivery from all its messages, the ones whose first hour is before the open's message's
  included (fct_deliveries reads messages from the touched deliveries' first hour on);
- a full build stores the hour facts and fct_messages in the time order these bounds
  prune by;
- a profile's targeting rows (fct_delivery_hours.single_hour_profiles,
  fct_delivery_profile_spans): a second message of a profile sent days later makes it span
  several hours, so its older hour stops counting it; a message given a second targeting
  hour (a late error) takes its profile out of the single-hour counts; a late open into a
  profile's message changes no profile.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

import compare
from conftest import TALLY, dbt, run

FEEDBACK = [
    "event_id",
    "event_ts",
    "ingested_at",
    "campaign_id",
    "execution_id",
    "message_id",
    "profile_id",
    "channel",
    "status",
    "failure_type",
    "reason",
    "recipient_address",
]
TRACKING = [
    "event_id",
    "event_ts",
    "ingested_at",
    "campaign_id",
    "execution_id",
    "message_id",
    "profile_id",
    "channel",
    "interaction",
    "url",
]
FACTS = [
    "marts.fct_message_hours",
    "marts.fct_messages",
    "marts.fct_failure_hours",
    "marts.fct_link_click_hours",
    "marts.fct_recipient_quarantines",
    "marts.fct_deliveries",
    "marts.fct_delivery_hours",
]
TIME_ORDERED = {
    "marts.fct_message_hours": "activity_hour",
    "marts.fct_failure_hours": "activity_hour",
    "marts.fct_link_click_hours": "activity_hour",
    "marts.fct_delivery_hours": "activity_hour",
    "marts.fct_messages": "first_event_at",
}
SELECT = [
    "--select",
    "+fct_deliveries",
    "+fct_failure_hours",
    "+fct_link_click_hours",
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]


def sent(
    event_id: str, ts: str, execution: str, message: str, address: str, status: str = "sent", failure: str = "", reason: str = ""
) -> list[str]:
    return [event_id, ts, ts, "c1", execution, message, f"p_{message}", "email", status, failure, reason, address]


def targeted(event_id: str, ts: str, message: str, profile: str, status: str = "sent") -> list[str]:
    """A targeting event (sent, error) of a message of delivery x1 for a chosen profile."""
    reason = "technical_error" if status == "error" else ""
    return [event_id, ts, ts, "c1", "x1", message, profile, "email", status, "", reason, f"{message}@example.com"]


def tracked(event_id: str, ts: str, message: str, interaction: str, url: str = "", execution: str = "x1") -> list[str]:
    return [event_id, ts, ts, "c1", execution, message, f"p_{message}", "email", interaction, url]


# Filler: a day of history before everything below, so the bound has row groups to skip.
HISTORY = [sent(f"h{i}", f"2026-10-20 {i % 24:02d}:{i % 60:02d}:00", "x0", f"h{i}", f"h{i}@old.example") for i in range(200)]
LOADS = [
    {
        "message_feedback_events": [
            *HISTORY,
            sent("f1", "2026-11-01 10:00:00", "x1", "m1", "a1@example.com"),
            sent("f2", "2026-11-01 10:00:00", "x1", "m2", "a2@example.com"),
            sent("f3", "2026-11-02 09:00:00", "x1", "m2", "a2@example.com", "bounce", "hard", "invalid_mailbox"),
            sent("f4", "2026-11-03 08:00:00", "x2", "m3", "a3@example.com"),
            # Profiles: pa and pb each targeted in one hour of x1 (13:00, 14:00), pc in two already.
            targeted("g1", "2026-11-01 13:10:00", "s1", "pa"),
            targeted("g2", "2026-11-01 14:10:00", "s3", "pb"),
            targeted("g4", "2026-11-01 12:20:00", "s4", "pc"),
            targeted("g5", "2026-11-01 17:20:00", "s5", "pc"),
        ],
        "message_tracking_events": [tracked("t1", "2026-11-01 11:30:00", "m1", "click", "https://example.com/a")],
    },
    {
        "message_feedback_events": [
            # A late failure into m1's old hour 10:00.
            sent("f5", "2026-11-01 10:59:59", "x1", "m1", "a1@example.com", "retry", "soft", "mailbox_full"),
            # a2's hard bounce that happened before its first one, in another delivery.
            # (Every new event of this load is after m1's first one: the bound is m1's own.)
            sent("f6", "2026-11-01 20:00:00", "x2", "m4", "a2@example.com"),
            sent("f7", "2026-11-01 20:30:00", "x2", "m4", "a2@example.com", "bounce", "hard", "invalid_mailbox"),
        ],
        "message_tracking_events": [
            # A late open days after the send; a late click into the old hour 11:00.
            tracked("t2", "2026-11-05 18:00:00", "m1", "open"),
            tracked("t3", "2026-11-01 11:00:00", "m1", "click", "https://example.com/b"),
        ],
    },
    {
        # A copy of f4 (same content), a copy of f1 with other content.
        "message_feedback_events": [
            sent("f4", "2026-11-03 08:00:00", "x2", "m3", "a3@example.com"),
            sent("f1", "2026-11-01 12:00:00", "x1", "m1", "a1@example.com"),
            # A later hard bounce of a2: its first one stays f7.
            sent("f8", "2026-11-06 09:00:00", "x1", "m2", "a2@example.com", "bounce", "hard", "invalid_mailbox"),
        ],
        "message_tracking_events": [],
    },
    {
        # Weeks later, into the history's delivery x0: a copy of its event h3 (same content,
        # arriving in a new batch), a copy of h1 with another event time (a conflict whose
        # original is older than every event of the batch), and a late open of h5, whose
        # delivery's other messages start before h5's first hour.
        "message_feedback_events": [
            sent("h3", "2026-10-20 03:03:00", "x0", "h3", "h3@old.example"),
            sent("h1", "2026-11-07 07:07:00", "x0", "h1", "h1@old.example"),
        ],
        "message_tracking_events": [tracked("t4", "2026-11-07 09:00:00", "h5", "open", execution="x0")],
    },
    {
        # pa's second message days later: pa now spans two hours (13:00 stops counting it);
        # s3 (pb's only message) given a second targeting hour by a late error; a late
        # open of pc's message s4.
        "message_feedback_events": [
            targeted("g6", "2026-11-04 15:00:00", "s2", "pa"),
            targeted("g7", "2026-11-01 16:40:00", "s3", "pb", status="error"),
        ],
        "message_tracking_events": [
            ["t5", "2026-11-06 10:00:00", "2026-11-06 10:00:00", "c1", "x1", "s4", "pc", "email", "open", ""],
        ],
    },
    {"message_feedback_events": [], "message_tracking_events": []},
]


def write_load(folder: Path, load: dict[str, list[list[str]]], index: int) -> list[tuple[str, Path]]:
    files = []
    for table, header in (("message_feedback_events", FEEDBACK), ("message_tracking_events", TRACKING)):
        path = folder / f"{table}-{index}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(load[table])
        files.append((table, path))
    return files


def test_incremental_bounds_equal_a_full_refresh(tmp_path: Path) -> None:
    incremental = tmp_path / "incremental.duckdb"
    for index, load in enumerate(LOADS):
        for table, path in write_load(tmp_path, load, index):
            if load[table]:
                run([*TALLY, "load", "--quiet", "--table", table, str(path)], incremental)
        dbt(["build", *SELECT], incremental)
    full = tmp_path / "full.duckdb"
    shutil.copyfile(incremental, full)
    dbt(["build", "--full-refresh", *SELECT], full)

    con = duckdb.connect()
    compare.attach(con, incremental=incremental, full_refresh=full)
    differences = compare.relation_differences(con, "full_refresh", "incremental", FACTS)
    assert not differences, f"incremental differs from full refresh (rows, only full, only incremental): {differences}"
    # The edges were really there: m1's first hour re-derived with its late open, the
    # late click counted in the old hour, a2 quarantined by its earlier bounce in x2.
    m1 = con.execute(
        "select count(*), min(activity_hour), max(message_hour_count) from incremental.marts.fct_message_hours "
        "where message_id = 'm1'"
    ).fetchone()
    assert m1 == (3, datetime(2026, 11, 1, 10), 3)
    clicks = con.execute(
        "select sum(clicks) from incremental.marts.fct_link_click_hours where message_id = 'm1' "
        "and activity_hour = timestamp '2026-11-01 11:00:00'"
    ).fetchone()[0]
    assert clicks == 2
    assert con.execute(
        "select execution_id from incremental.marts.fct_recipient_quarantines where event_id = 'f7'"
    ).fetchall() == [("x2",)]
    quarantines = dict(con.execute("select execution_id, new_quarantines from incremental.marts.fct_deliveries").fetchall())
    assert quarantines["x1"] == 0 and quarantines["x2"] == 1
    # The old delivery x0 took the late open and kept all its messages; the weeks-late
    # copies of h3 and h1 were found among the staged events, not staged again.
    x0 = con.execute("select sent, opens from incremental.marts.fct_deliveries where execution_id = 'x0'").fetchone()
    assert x0 == (len(HISTORY), 1)
    copies = con.execute(
        "select event_id, row_status, rejection_reasons from incremental.staging.base_raw__message_feedback_events "
        "where event_id in ('h1', 'h3') order by event_id, row_status"
    ).fetchall()
    assert copies == [
        ("h1", "rejected", "conflicting_duplicate"),
        ("h1", "staged", None),
        ("h3", "duplicate", None),
        ("h3", "staged", None),
    ]
    # The profile edges: after the last loads, 13:00 no longer counts pa (now spanning
    # 13:00 and 15:00 of Nov 4; no message of 13:00 took an event, only pa's profile
    # touches it); 14:00 no longer counts pb (its message has two targeting hours).
    single = dict(
        con.execute(
            "select hour(activity_hour), single_hour_profiles from incremental.marts.fct_delivery_hours "
            "where execution_id = 'x1' and activity_hour between timestamp '2026-11-01 13:00:00' "
            "and timestamp '2026-11-01 14:00:00'"
        ).fetchall()
    )
    assert single == {13: 0, 14: 0}, single
    spans = con.execute(
        "select targeted_profile_id, first_hour, last_hour from incremental.marts.fct_delivery_profile_spans "
        "where execution_id = 'x1' and first_hour is not null order by targeted_profile_id"
    ).fetchall()
    assert spans == [
        ("pa", datetime(2026, 11, 1, 13), datetime(2026, 11, 4, 15)),
        ("pc", datetime(2026, 11, 1, 12), datetime(2026, 11, 1, 17)),
    ], spans
    # A full build stores the facts in the time order the bounds above prune by (zone
    # maps skip row groups only when the rows are stored in that order).
    for relation, column in TIME_ORDERED.items():
        out_of_order = con.execute(
            f"select count(*) from (select {column} < lag({column}) over (order by rowid) as back "
            f"from full_refresh.{relation}) where back"
        ).fetchone()[0]
        assert out_of_order == 0, f"{relation} is not stored in {column} order after a full build"
