"""Machine opens and clicks (issue 23, part 2): each rule from events written for it, the
cases that must not trigger, a send that arrives after its open (the open is re-classified
by the next incremental run, equal to a full build), the figures in the reports, the vars,
and 20,000 generated events with machine activity equal to the independent reference.

Each message below is one case. Its expected rule is written out here and must also be
what tally.machine_reference computes from the raw files (one event at a time)."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import REPO, TALLY, dbt, run
from tally.machine_reference import DEFAULT_SECONDS_AFTER_SEND, DEFAULT_USER_AGENT_PATTERNS

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 1, 8, 0, 0)
FEEDBACK = ["event_id", "event_ts", "ingested_at", "campaign_id", "execution_id", "message_id", "profile_id", "channel"]
FEEDBACK += ["status", "recipient_address"]
TRACKING = ["event_id", "event_ts", "ingested_at", "campaign_id", "execution_id", "message_id", "profile_id", "channel"]
TRACKING += ["interaction", "url", "user_agent", "is_bot"]
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
LATE = T0 + timedelta(hours=6)  # batch 2's arrival time

# message -> (channel, [(seconds after the send, interaction, url, user agent, is_bot, expected rule)])
CASES: dict[str, tuple[str, list[tuple[float, str, str, str, str, str | None]]]] = {
    # The platform's own flag, an hour after the send.
    "flagged": ("email", [(3600, "open", "", BROWSER, "true", "platform_flag")]),
    # A flag that says "not a bot" is a human's.
    "flag_false": ("email", [(3600, "open", "", BROWSER, "false", None)]),
    # An image proxy's user agent, whenever it comes.
    "proxy_agent": ("email", [(7200, "open", "", "Mozilla/5.0 (via ggpht.com GoogleImageProxy)", "", "known_agent")]),
    # Three links in one second: a scanner. Each click is the scanner's.
    "burst": (
        "email",
        [
            (300.1, "click", "https://shop.example.com/a", BROWSER, "", "link_burst"),
            (300.4, "click", "https://shop.example.com/b", BROWSER, "", "link_burst"),
            (300.9, "click", "https://shop.example.com/c", BROWSER, "", "link_burst"),
        ],
    ),
    # Two links in one second are enough.
    "burst_two": (
        "email",
        [
            (200.0, "click", "https://shop.example.com/b", BROWSER, "", "link_burst"),
            (200.999, "click", "https://shop.example.com/a", BROWSER, "", "link_burst"),
        ],
    ),
    # The same link twice in a second (a double click), and two links a second apart: human.
    "double_click": (
        "email",
        [
            (300.1, "click", "https://shop.example.com/a", BROWSER, "", None),
            (300.5, "click", "https://shop.example.com/a", BROWSER, "", None),
        ],
    ),
    "two_seconds": (
        "email",
        [
            (300.5, "click", "https://shop.example.com/a", BROWSER, "", None),
            (301.5, "click", "https://shop.example.com/b", BROWSER, "", None),
        ],
    ),
    # An open 4 s after the send: a privacy proxy; an SMS click 2 s after: a link preview.
    "soon": ("email", [(4, "open", "", BROWSER, "", "soon_after_send")]),
    "sms_soon": ("sms", [(2, "click", "https://shop.example.com/s", BROWSER, "", "soon_after_send")]),
    # At exactly 10 s: still the machine's; at 11 s, and 10 minutes after: a reader's.
    "at_limit": ("email", [(10, "open", "", BROWSER, "", "soon_after_send")]),
    "after_limit": ("email", [(11, "open", "", BROWSER, "", None)]),
    "ten_minutes": (
        "email",
        [(600, "open", "", BROWSER, "", None), (660, "click", "https://shop.example.com/a", BROWSER, "", None)],
    ),
    # A push open 2 s after the send is the recipient tapping the notification.
    "push_tap": ("push", [(2, "open", "", BROWSER, "", None)]),
    # The open arrives in batch 1, its send (3 s before it) only in batch 2: the open is a
    # human's after the first run and the machine's after the second.
    "late_send": (
        "email",
        [
            (3, "open", "", BROWSER, "", "soon_after_send"),
            (5, "click", "https://shop.example.com/d", BROWSER, "", "soon_after_send"),
        ],
    ),
}


def write(folder: Path, seconds_after_send: int = DEFAULT_SECONDS_AFTER_SEND) -> dict[str, tuple[str, str | None]]:
    """The cases as two batches of raw files (batch 2: the late send) and as one; returns
    event_id -> (message, expected rule)."""
    expected: dict[str, tuple[str, str | None]] = {}
    batches: dict[str, tuple[list, list]] = {name: ([], []) for name in ("batch1", "batch2", "all")}
    for number, (message, (channel, events)) in enumerate(CASES.items()):
        sent_at = T0 + number * MINUTE * 7
        batch = "batch2" if message == "late_send" else "batch1"
        address = "+33600000001" if channel == "sms" else f"{message}@example.org"
        send = [f"f_{message}", str(sent_at), str(LATE if batch == "batch2" else T0), "c_bot", "x1", message, f"p_{message}"]
        send += [channel, "sent", address]
        for name in (batch, "all"):
            batches[name][0].append(send)
        for k, (after, interaction, url, agent, is_bot, rule) in enumerate(events):
            event_id = f"t_{message}_{k}"
            at = sent_at + timedelta(seconds=after)
            row = [event_id, at.isoformat(sep=" "), str(T0), "c_bot", "x1", message, f"p_{message}", channel]
            row += [interaction, url, agent, is_bot]
            for name in ("batch1", "all"):
                batches[name][1].append(row)
            if rule == "soon_after_send" and after > seconds_after_send:
                rule = None
            expected[event_id] = (message, rule)
    for name, (feedback, tracking) in batches.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for table, header, rows in (
            ("message_feedback_events", FEEDBACK, feedback),
            ("message_tracking_events", TRACKING, tracking),
        ):
            with (folder / name / f"{table}.csv").open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
    return expected


def load(folder: Path, warehouse: Path) -> None:
    for table in ("message_feedback_events", "message_tracking_events"):
        if len((folder / f"{table}.csv").read_text().splitlines()) < 2:
            continue  # a batch without rows of this table
        run([*TALLY, "load", "--quiet", "--table", table, str(folder / f"{table}.csv")], warehouse)


# The models and the seeds they read, without the tests (the sample's golden numbers, say).
SELECTION = ["--select", "+fct_deliveries", "+period_top_links", "--exclude-resource-type", "test", "unit_test"]


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def rules(warehouse: Path) -> dict[str, str | None]:
    return dict(query(warehouse, "select event_id, machine_rule from marts.fct_open_click_events"))


def reference_rules(tmp_path: Path, raw: Path, *extra: str) -> dict[str, str | None]:
    """event_id -> rule, from the reference's per-delivery output's inputs: tally golden
    writes the per-delivery figures; the per-event classes come from the module itself."""
    from tally.reference import stage

    staged = stage(raw, datetime(2100, 1, 1), *[int(v) for v in extra])
    return {e.event_id: e.machine_rule for e in staged.events if e.table == "message_tracking_events"}


def facts(warehouse: Path) -> dict[str, list[tuple]]:
    return {
        "fct_open_click_events": query(
            warehouse, "select event_id, machine_rule, is_machine from marts.fct_open_click_events order by event_id"
        ),
        "fct_message_hours": query(
            warehouse,
            "select message_id, activity_hour, opens, human_opens, clicks, human_clicks "
            "from marts.fct_message_hours order by all",
        ),
        "fct_link_click_hours": query(
            warehouse, "select message_id, url, activity_hour, clicks, human_clicks from marts.fct_link_click_hours order by all"
        ),
    }


def test_each_rule_triggers_on_its_events_and_not_on_the_others(tmp_path: Path) -> None:
    expected = write(tmp_path)
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    load(tmp_path / "batch1", warehouse)
    dbt(["build", *SELECTION], warehouse)
    first = rules(warehouse)
    # Without its send, late_send's open and click are a human's.
    assert first["t_late_send_0"] is None and first["t_late_send_1"] is None
    load(tmp_path / "batch2", warehouse)
    dbt(["build", *SELECTION], warehouse)

    assert rules(warehouse) == {event_id: rule for event_id, (_, rule) in expected.items()}
    assert rules(warehouse) == reference_rules(tmp_path, tmp_path / "all")
    incremental = facts(warehouse)

    fresh = tmp_path / "fresh" / "warehouse.duckdb"
    load(tmp_path / "all", fresh)
    dbt(["build", *SELECTION], fresh)
    assert facts(fresh) == incremental

    # Human + machine = the totals, in the delivery's figures and its links. Email opens: 8,
    # 5 of them machines' (flagged, proxy_agent, soon, at_limit, late_send); email clicks: 11
    # in 6 messages, 5 of them bursts' and 1 late_send's.
    totals = query(
        warehouse,
        "select opens, human_opens, unique_opens, human_unique_opens, clicks, human_clicks, unique_clicks, "
        "human_unique_clicks from marts.fct_deliveries where channel = 'email'",
    )
    assert totals == [(8, 3, 8, 3, 11, 5, 6, 3)]
    links = query(
        warehouse,
        "select url, clicks, human_clicks, unique_clicks, human_unique_clicks from marts.period_top_links "
        "where channel = 'email' order by url",
    )
    assert links == [
        ("https://shop.example.com/a", 6, 4, 5, 3),
        ("https://shop.example.com/b", 3, 1, 3, 1),
        ("https://shop.example.com/c", 1, 0, 1, 0),
        ("https://shop.example.com/d", 1, 0, 1, 0),
    ]


def test_the_rules_follow_their_vars(tmp_path: Path) -> None:
    """machine_seconds_after_send 3: the opens 4 s and 10 s after the send are a human's, as
    the reference computes with the same setting; the defaults are the reference's; a bad
    value is a clear error."""
    expected = write(tmp_path, seconds_after_send=3)
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    load(tmp_path / "all", warehouse)
    dbt(["build", *SELECTION, "--vars", "{machine_seconds_after_send: 3}"], warehouse)
    assert rules(warehouse) == {event_id: rule for event_id, (_, rule) in expected.items()}
    assert rules(warehouse) == reference_rules(tmp_path, tmp_path / "all", "3")
    assert rules(warehouse)["t_soon_0"] is None and rules(warehouse)["t_late_send_0"] == "soon_after_send"

    project_vars = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    assert project_vars["machine_seconds_after_send"] == DEFAULT_SECONDS_AFTER_SEND
    assert tuple(project_vars["machine_user_agent_patterns"]) == DEFAULT_USER_AGENT_PATTERNS

    for bad, message in (
        ("{machine_seconds_after_send: 5000}", "Invalid var machine_seconds_after_send: expected 0 to 3600, got 5000"),
        ("{machine_user_agent_patterns: 'bot'}", "Invalid var machine_user_agent_patterns: expected a list of strings"),
        ("{machine_user_agent_patterns: ['%']}", 'Invalid var machine_user_agent_patterns: "%" is not a non-empty fragment'),
    ):
        refused = dbt(["run", "--select", "fct_open_click_events", "--vars", bad], warehouse, check=False)
        assert refused.returncode != 0, bad
        assert message in refused.stdout, refused.stdout[-2000:]


def test_generated_machine_activity_equals_the_reference(tmp_path: Path) -> None:
    """20,000 generated events with privacy-proxy opens, scanner bursts, flagged events
    and scanner user agents: every report row's human figures equal the reference's."""
    data = tmp_path / "events"
    run([*TALLY, "generate", "--events", "20000", "--days", "3", "--format", "csv", "--seed", "29", "--out", str(data)])
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    for table in ("campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"):
        run([*TALLY, "load", "--quiet", "--table", table, str(data / f"{table}.csv")], warehouse)
    # with the invariant human + machine = totals, on these events
    dbt(["build", "--select", "+assert_human_and_machine_add_up_to_totals", "--indirect-selection", "cautious"], warehouse)
    out = tmp_path / "reference.csv"
    run([*TALLY, "golden", "--raw-dir", str(data), "--out", str(out)])
    columns = ["opens", "human_opens", "unique_opens", "human_unique_opens", "clicks", "human_clicks", "unique_clicks"]
    columns += ["human_unique_clicks"]
    with out.open(newline="") as handle:
        reference = sorted(
            (row["campaign_id"], row["execution_id"], row["channel"], *(int(row[c]) for c in columns))
            for row in csv.DictReader(handle)
        )
    actual = sorted(
        query(warehouse, f"select campaign_id, execution_id, channel, {', '.join(columns)} from marts.fct_deliveries")
    )
    assert actual == reference
    by_rule = dict(query(warehouse, "select machine_rule, count(*) from marts.fct_open_click_events group by all"))
    assert set(by_rule) == {None, "platform_flag", "known_agent", "link_burst", "soon_after_send"}, by_rule
    assert sum(row[3] - row[4] for row in actual) > 0 and sum(row[7] - row[8] for row in actual) > 0
