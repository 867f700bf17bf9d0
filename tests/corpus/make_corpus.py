#!/usr/bin/env python3
"""Writes the bad-input corpus and manifest.json (run from tests/corpus/). Kept so the files can be regenerated and read as code."""

import json

import duckdb

H = "event_id,event_ts,ingested_at,campaign_id,execution_id,message_id,profile_id,channel,status,failure_type,reason,recipient_address,platform\n"
T = "event_id,event_ts,ingested_at,campaign_id,execution_id,message_id,profile_id,channel,interaction,url,element_id,offer_id,platform,user_agent\n"


def fb(
    eid,
    ts="2026-11-01 10:00:00",
    ing="2026-11-01 10:00:05",
    cmp="cmp_a",
    ex="cmp_a_x1",
    msg=None,
    prof="p1",
    ch="email",
    st="sent",
    ft="",
    rs="",
    addr="someone@example.com",
    pf="",
):
    msg = msg or "m_" + eid
    return f"{eid},{ts},{ing},{cmp},{ex},{msg},{prof},{ch},{st},{ft},{rs},{addr},{pf}\n"


manifest = []


def add(name, table, content, expect, mode="w", **extra):
    with open(name, mode) as f:
        f.write(content)
    manifest.append({"file": name, "table": table, **expect, **extra})


# --- files refused whole: the error names the file and the column / problem
add(
    "missing_column.csv",
    "message_feedback_events",
    "event_id,event_ts,campaign_id,execution_id,profile_id,channel,status\nx,2026-11-01 10:00:00,c,x,p,email,sent\n",
    {"outcome": "refused", "message": "missing required column 'message_id'"},
    kind="missing column",
)
add(
    "extra_column.csv",
    "message_feedback_events",
    H.strip() + ",shoe_size\n" + fb("extra1").strip() + ",42\n",
    {"outcome": "refused", "message": "unexpected column 'shoe_size'"},
    kind="extra column",
)
add("empty.csv", "message_feedback_events", "", {"outcome": "refused", "message": "the file is empty"}, kind="empty file")
add(
    "duplicate_header.csv",
    "message_feedback_events",
    "event_id,event_id,event_ts\n1,2,3\n",
    {"outcome": "refused", "message": "event_id"},
    kind="duplicated column",
)
add(
    "malformed_lines.ndjson",
    "message_tracking_events",
    '{"event_id": "j1", "event_ts": "2026-11-01 10:00:00"\n{not json}\n',
    {"outcome": "refused", "message": "cannot be read"},
    kind="malformed NDJSON",
)
add(
    "latin1_encoding.csv",
    "message_feedback_events",
    (H + fb("enc1", cmp="caf\u00e9")).encode("latin-1"),
    {"outcome": "refused", "message": "cannot be read"},
    mode="wb",
    kind="wrong encoding (Latin-1)",
)
con = duckdb.connect()
con.execute(
    "copy (select 'p1' as event_id, {'a': 1} as event_ts, 'c' as campaign_id, 'x' as execution_id, 'm' as message_id, 'p' as profile_id, 'email' as channel, 'open' as interaction) to 'nested_type.parquet' (format parquet)"
)
manifest.append(
    {
        "file": "nested_type.parquet",
        "table": "message_tracking_events",
        "outcome": "refused",
        "message": "column 'event_ts' has type STRUCT",
        "kind": "wrong type (nested Parquet column)",
    }
)
con.execute(
    "copy (select 'tr' || range as event_id, '2026-11-01 10:00:00' as event_ts, 'c' as campaign_id, 'x' as execution_id, 'm' || range as message_id, 'p' as profile_id, 'email' as channel, 'open' as interaction from range(20000)) to '/tmp/full.parquet' (format parquet)"
)
data = open("/tmp/full.parquet", "rb").read()
open("truncated.parquet", "wb").write(data[: len(data) // 2])
manifest.append(
    {
        "file": "truncated.parquet",
        "table": "message_tracking_events",
        "outcome": "refused",
        "message": "cannot be read",
        "kind": "truncated Parquet file",
    }
)
# --- rows rejected with a reason; every file also holds one valid row that must be staged
rows = [
    ("wrong_value_type", fb("bad_type", ts="12345"), "invalid_event_ts", "wrong type (number for a timestamp)"),
    ("unparseable_ts", fb("bad_ts", ts="yesterday"), "invalid_event_ts", "unparseable timestamp"),
    ("impossible_date", fb("bad_date", ts="2026-02-30 10:00:00"), "invalid_event_ts", "out-of-range date (30 February)"),
    ("before_2000", fb("old_ts", ts="1899-12-31 23:59:59"), "event_ts_out_of_range", "out-of-range timestamp (1899)"),
    ("far_future", fb("future_ts", ts="2999-01-01 00:00:00"), "event_ts_out_of_range", "timestamp far in the future"),
    ("bad_ingested_at", fb("bad_ing", ing="soon"), "invalid_ingested_at", "unparseable ingested_at"),
    ("very_long_id", fb("long_id", cmp="c" * 100000), "invalid_campaign_id", "very long string (100,000 characters)"),
    ("control_characters", fb("ctrl", msg="m\x01\x07x"), "invalid_message_id", "control characters in an id"),
    ("nul_byte", fb("nul", prof="p\x00x"), "invalid_profile_id", "NUL byte in an id"),
    (
        "formula_id",
        fb("formula", cmp='"=HYPERLINK(""http://evil.example"",""x"")"'),
        "invalid_campaign_id",
        "formula-like id (=HYPERLINK)",
    ),
    ("unknown_channel", fb("pigeon", ch="pigeon"), "invalid_channel", "unknown enum value (channel)"),
    ("unknown_status", fb("lost", st="teleported"), "invalid_status", "unknown enum value (status)"),
    ("missing_required", fb("no_msg", msg=" "), "missing_message_id", "missing required value"),
    ("bounce_without_type", fb("no_type", st="bounce", rs="user_unknown"), "missing_failure_type", "bounce without failure type"),
]
for name, row, reason, kind in rows:
    eid = row.split(",")[0]
    add(
        f"{name}.csv",
        "message_feedback_events",
        H + fb("ok_" + name) + row,
        {"outcome": "rejected", "event_id": eid, "reason": reason, "valid_event_ids": ["ok_" + name]},
        kind=kind,
    )


def tr(eid, ch="email", it="open", url=""):
    return f"{eid},2026-11-01 11:00:00,2026-11-01 11:00:05,cmp_a,cmp_a_x1,m_ok_x,p1,{ch},{it},{url},,,,\n"


add(
    "interaction_channel_cannot_have.csv",
    "message_tracking_events",
    T + tr("ok_tr1") + tr("sms_open", ch="sms"),
    {
        "outcome": "rejected",
        "event_id": "sms_open",
        "reason": "interaction_not_allowed_for_channel",
        "valid_event_ids": ["ok_tr1"],
    },
    kind="interaction a channel cannot have",
)
add(
    "formula_url.csv",
    "message_tracking_events",
    T + tr("formula_url", it="click", url='"=HYPERLINK(""http://evil.example"",""x"")"'),
    {
        "outcome": "rejected",
        "event_id": "formula_url",
        "reason": "invalid_url",
        "valid_event_ids": [],
        "note": "a tracked URL must be absolute; other free text is kept verbatim",
    },
    kind="formula-like URL (=HYPERLINK)",
)
add(
    "conflicting_duplicate.csv",
    "message_feedback_events",
    H
    + fb("dup", ing="2026-11-01 10:00:05", st="delivered")
    + fb("dup", ing="2026-11-01 10:09:00", st="bounce", ft="hard", rs="user_unknown"),
    {"outcome": "rejected", "event_id": "dup", "reason": "conflicting_duplicate", "valid_event_ids": ["dup"]},
    kind="same event id, conflicting content",
)
add(
    "unknown_campaign.csv",
    "message_feedback_events",
    H + fb("unknown_cmp", cmp="cmp_nobody_knows"),
    {
        "outcome": "staged",
        "valid_event_ids": ["unknown_cmp"],
        "note": "kept; dim_campaigns lists it with is_known_campaign = false",
    },
    kind="event for an unknown campaign",
)
add(
    "semicolon_delimiter.csv",
    "message_feedback_events",
    (H + fb("semi")).replace(",", ";"),
    {"outcome": "staged", "valid_event_ids": ["semi"], "note": "DuckDB's CSV sniffer detects the delimiter"},
    kind="other delimiter",
)
json.dump(manifest, open("manifest.json", "w"), indent=1)
print(len(manifest), "cases")
