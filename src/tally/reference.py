"""Independent reference implementation of the contract's metrics, for golden tests.

Plain Python over the raw CSV files (standard library only: no DuckDB, no SQL), written
from the raw event contract (docs/raw-event-contract.md; its columns and allowed values
as tally.contract states them) and docs/decisions.md, never from the dbt models, so
that a golden seed it writes can catch a mistake in the SQL. Slow by design: clarity over
speed; meant for the bundled sample and small test sets.

Outputs (CSV): per-delivery statistics for a window (--mode all, live or period), and with
--breakdowns-dir the reason, platform and top-link breakdowns of the same window.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from tally.contract import ALLOWED_INTERACTIONS, CHANNELS, FAILURE_TYPES, STATUSES
from tally.experiment_reference import DEFAULT_WINDOW_HOURS, EXPERIMENT_LOOK_COLUMNS, EXPERIMENT_RESULT_COLUMNS
from tally.experiment_reference import results as experiment_results
from tally.machine_reference import DEFAULT_SECONDS_AFTER_SEND, DEFAULT_USER_AGENT_PATTERNS, classify
from tally.suppression_reference import suppression_states

KNOWN_INTERACTIONS = set().union(*ALLOWED_INTERACTIONS.values())
# Tie-break for "the last feedback event" on equal event_ts (docs/decisions.md).
PRECEDENCE = {"excluded": 1, "error": 2, "sent": 3, "retry": 4, "delivered": 5, "bounce": 6}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z?$")
# Each rate's population and numerator (message counts: docs/decisions.md, "Rates are
# proportions"), in the reports beside the rates.
RATE_PART_COLUMNS = [
    "sent_messages",
    "sent_messages_delivered",
    "sent_messages_bounced",
    "delivered_messages",
    "delivered_messages_opened",
    "delivered_messages_clicked",
    "delivered_messages_human_opened",
    "delivered_messages_human_clicked",
    "delivered_messages_complained",
    "delivered_messages_unsubscribed",
    "opened_messages_clicked",
    "attempted_messages",
    "attempted_messages_delivered",
    "attempted_messages_errored",
    "attempted_messages_failed",
]
COUNT_COLUMNS = [
    "targeted",
    "excluded",
    "errors",
    "sent",
    "delivered",
    "bounces",
    "hard_bounces",
    "soft_bounces",
    "ignored_bounces",
    "retries",
    "opens",
    "unique_opens",
    "estimated_unique_opens",
    "clicks",
    "unique_clicks",
    "unsubscriptions",
    "spam_complaints",
    "mirror_page_views",
    "forwards",
    "impressions",
    "unique_impressions",
    "dismissals",
    "other_interactions",
    "interactions",
    "actions",
    "engagements",
    "offers_sent",
    "audience",
    "new_quarantines",
    "unique_unsubscriptions",
    "unique_mirror_page_views",
    "unique_forwards",
    "estimated_forwards",
    "unique_channel_clicks",
    "unique_reached",
    "messages_to_deliver",
    "execution_errors",
    "human_opens",
    "human_unique_opens",
    "human_clicks",
    "human_unique_clicks",
    *RATE_PART_COLUMNS,
]
RATE_COLUMNS = [
    "delivered_rate",
    "bounce_rate",
    "open_rate",
    "click_rate",
    "reactivity",
    "raw_reactivity",
    "channel_reactivity",
    "success_rate",
    "error_rate",
    "execution_error_rate",
    "new_quarantine_rate",
    "human_open_rate",
    "human_click_rate",
]
# What "reached the recipient" means per channel (the denominator of channel_reactivity):
# tracking kinds, plus the feedback kinds for SMS, whose opens are not tracked.
REACHED = {
    "email": {"open", "click"},
    "push": {"open", "action"},
    "sms": {"delivered", "click"},
    "inapp": {"impression", "click"},
    "web": {"impression", "click"},
    "direct_mail": set(),
}
TRACKING_COUNTS = {
    "open": "opens",
    "click": "clicks",
    "unsubscribe": "unsubscriptions",
    "spam_complaint": "spam_complaints",
    "mirror_page": "mirror_page_views",
    "forward": "forwards",
    "impression": "impressions",
    "dismiss": "dismissals",
    "interaction": "other_interactions",
    "action": "actions",
}
STATUS_COUNTS = {"excluded": "excluded", "error": "errors", "sent": "sent", "delivered": "delivered", "bounce": "bounces"}


def text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def enum(value: str | None) -> str | None:
    value = text(value)
    return value.lower() if value else None


def parse_ts(value: str | None) -> datetime | None:
    if value is None or not TIMESTAMP.match(value):
        return None
    value = value.replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


@dataclass
class Event:
    table: str
    event_id: str
    event_ts: datetime
    ingested_at: datetime
    delivery: tuple[str, str, str]
    message_id: str
    profile_id: str
    kind: str  # status, interaction, or 'proposition'
    failure_type: str | None = None
    reason: str | None = None
    address: str | None = None
    platform: str | None = None
    url: str | None = None
    offer_id: str | None = None
    user_agent: str | None = None
    is_bot: bool | None = None
    machine_rule: str | None = None
    experiment_id: str | None = None
    experiment_name: str | None = None
    treatment_id: str | None = None
    treatment_name: str | None = None
    content: tuple = field(default_factory=tuple)


@dataclass
class Staged:
    events: list[Event]
    counts: dict[str, dict[str, int]]  # table -> raw/staged/duplicate/rejected
    rejects: dict[tuple[str, str], int]


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def validate(table: str, row: dict[str, str], loaded_at: datetime) -> tuple[list[str], Event | None]:
    get = lambda name: text(row.get(name))  # noqa: E731
    reasons: list[str] = []
    kind_column = {
        "message_feedback_events": "status",
        "message_tracking_events": "interaction",
        "offer_propositions": "offer_id",
    }[table]
    required = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", kind_column]
    for name in required:
        if get(name) is None:
            reasons.append(f"missing_{name}")
    event_ts_text = get("event_ts")
    event_ts = parse_ts(event_ts_text)
    if event_ts_text is not None and event_ts is None:
        reasons.append("invalid_event_ts")
    ingested_text = get("ingested_at")
    ingested_at = parse_ts(ingested_text) if ingested_text else loaded_at
    if (
        event_ts is not None
        and ingested_at is not None
        and (event_ts < datetime(2000, 1, 1) or event_ts > ingested_at + timedelta(hours=24))
    ):
        reasons.append("event_ts_out_of_range")
    if ingested_text is not None and ingested_at is None:
        reasons.append("invalid_ingested_at")
    for name in ("event_id", "campaign_id", "execution_id", "message_id", "profile_id"):
        value = get(name)
        if value is not None and (len(value) > 255 or CONTROL.search(value) or value.startswith("=")):
            reasons.append(f"invalid_{name}")
    channel = enum(row.get("channel"))
    if channel is not None and channel not in CHANNELS:
        reasons.append("invalid_channel")
    status = interaction = failure_type = reason = None
    if table == "message_feedback_events":
        status = enum(row.get("status"))
        failure_type = enum(row.get("failure_type"))
        reason = enum(row.get("reason"))
        if status is not None and status not in STATUSES:
            reasons.append("invalid_status")
        if failure_type is not None and failure_type not in FAILURE_TYPES:
            reasons.append("invalid_failure_type")
        if status == "bounce" and failure_type is None:
            reasons.append("missing_failure_type")
        if status in ("excluded", "error", "bounce") and reason is None:
            reasons.append("missing_reason")
        for name in ("experiment_id", "treatment_id"):
            value = get(name)
            if value is not None and (len(value) > 255 or CONTROL.search(value) or value.startswith("=")):
                reasons.append(f"invalid_{name}")
    if table == "message_tracking_events":
        interaction = enum(row.get("interaction"))
        if interaction is not None and interaction not in KNOWN_INTERACTIONS:
            reasons.append("invalid_interaction")
        elif channel in CHANNELS and interaction is not None and interaction not in ALLOWED_INTERACTIONS[channel]:
            reasons.append("interaction_not_allowed_for_channel")
        url = get("url")
        if url is not None and (not ABSOLUTE_URL.match(url) or CONTROL.search(url)):
            reasons.append("invalid_url")
        if enum(row.get("is_bot")) not in (None, "true", "false", "1", "0", "yes", "no"):
            reasons.append("invalid_is_bot")
    if reasons:
        return reasons, None
    address = text(row.get("recipient_address"))
    event = Event(
        table=table,
        event_id=get("event_id") or "",
        event_ts=event_ts,  # type: ignore[arg-type]
        ingested_at=ingested_at,  # type: ignore[arg-type]
        delivery=(get("campaign_id") or "", get("execution_id") or "", channel or ""),
        message_id=get("message_id") or "",
        profile_id=get("profile_id") or "",
        kind=status or interaction or "proposition",
        failure_type=failure_type,
        reason=reason,
        address=address.lower() if address else None,
        platform=enum(row.get("platform")),
        url=get("url"),
        offer_id=get("offer_id"),
        user_agent=get("user_agent"),
        is_bot=None if enum(row.get("is_bot")) is None else enum(row.get("is_bot")) in ("true", "1", "yes"),
        experiment_id=get("experiment_id"),
        experiment_name=get("experiment_name"),
        treatment_id=get("treatment_id"),
        treatment_name=get("treatment_name"),
    )
    event.content = (
        event.event_ts,
        event.delivery,
        event.message_id,
        event.profile_id,
        event.kind,
        event.failure_type,
        event.reason,
        event.address,
        event.platform,
        event.url,
        get("element_id"),
        event.offer_id,
        get("user_agent"),
        event.is_bot,
        event.experiment_id,
        event.experiment_name,
        event.treatment_id,
        event.treatment_name,
    )
    return [], event


def stage(
    raw_dir: Path,
    loaded_at: datetime,
    seconds_after_send: int = DEFAULT_SECONDS_AFTER_SEND,
    user_agent_patterns: Iterable[str] = DEFAULT_USER_AGENT_PATTERNS,
) -> Staged:
    events: list[Event] = []
    counts: dict[str, dict[str, int]] = {}
    rejects: dict[tuple[str, str], int] = defaultdict(int)
    for table in ("message_feedback_events", "message_tracking_events", "offer_propositions"):
        rows = read_rows(raw_dir / f"{table}.csv")
        tally = {"raw_rows": len(rows), "staged_rows": 0, "duplicate_rows": 0, "rejected_rows": 0}
        valid: dict[str, list[Event]] = defaultdict(list)
        for row in rows:
            reasons, event = validate(table, row, loaded_at)
            if event is None:
                tally["rejected_rows"] += 1
                for reason in reasons:
                    rejects[(table, reason)] += 1
            else:
                valid[event.event_id].append(event)
        for copies in valid.values():
            # First arrival wins; any deterministic order settles identical copies.
            copies.sort(key=lambda e: (e.ingested_at, repr(e.content)))
            winner = copies[0]
            events.append(winner)
            tally["staged_rows"] += 1
            for copy in copies[1:]:
                if copy.content == winner.content:
                    tally["duplicate_rows"] += 1
                else:
                    tally["rejected_rows"] += 1
                    rejects[(table, "conflicting_duplicate")] += 1
        counts[table] = tally
    rules = classify(events, seconds_after_send, user_agent_patterns)
    for e in events:
        if e.table == "message_tracking_events":
            e.machine_rule = rules.get(e.event_id)
    return Staged(events=events, counts=counts, rejects=dict(rejects))


def in_window(ts: datetime, mode: str, start: datetime | None, end: datetime | None) -> bool:
    if mode == "live":
        return start < ts <= end  # type: ignore[operator]
    if mode == "period":
        return (start is None or ts >= start) and (end is None or ts < end)
    return True


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def grain_key(event: Event, grain: str) -> tuple[str, ...]:
    """The report row an event belongs to: its delivery, or its campaign x channel tab."""
    campaign, execution, channel = event.delivery
    return event.delivery if grain == "delivery" else (campaign, channel)


def first_times(events: list[Event]) -> tuple[dict[tuple, datetime], dict[tuple, datetime], dict[str, Event]]:
    """Over all history: each delivery's first feedback event and first event of any kind,
    and each address's first hard bounce (the one that quarantines it)."""
    first_feedback: dict[tuple, datetime] = {}
    first_any: dict[tuple, datetime] = {}
    first_hard_bounce: dict[str, Event] = {}
    for e in events:
        first_any[e.delivery] = min(first_any.get(e.delivery, e.event_ts), e.event_ts)
        if e.table == "message_feedback_events":
            first_feedback[e.delivery] = min(first_feedback.get(e.delivery, e.event_ts), e.event_ts)
            if e.kind == "bounce" and e.failure_type == "hard" and e.address:
                best = first_hard_bounce.get(e.address)
                if best is None or (e.event_ts, e.event_id) < (best.event_ts, best.event_id):
                    first_hard_bounce[e.address] = e
    return first_feedback, first_any, first_hard_bounce


def count_messages(s: dict, messages: dict[tuple, list[Event]], channel: str) -> None:
    """The per-message counts of one report row: unique interactions, the reached messages,
    forwards estimated from clicking user agents, and retries still pending."""
    agents: set[tuple] = set()
    clicking: set[tuple] = set()
    for message_key, message_events in messages.items():
        kinds = {e.kind for e in message_events if e.table == "message_tracking_events"}
        feedback_kinds = {e.kind for e in message_events if e.table == "message_feedback_events"}
        s["unique_opens"] += "open" in kinds
        s["unique_clicks"] += "click" in kinds
        human = {e.kind for e in message_events if e.table == "message_tracking_events" and e.machine_rule is None}
        s["human_unique_opens"] += "open" in human
        s["human_unique_clicks"] += "click" in human
        s["unique_impressions"] += "impression" in kinds
        s["estimated_unique_opens"] += bool(kinds & {"open", "click"})
        s["unique_unsubscriptions"] += "unsubscribe" in kinds
        s["unique_mirror_page_views"] += "mirror_page" in kinds
        s["unique_forwards"] += "forward" in kinds
        s["unique_channel_clicks"] += ("action" if channel == "push" else "click") in kinds
        s["unique_reached"] += bool((kinds | feedback_kinds) & REACHED[channel])
        # The rates' populations: a rate counts the messages of its population (those with
        # a send, a delivery, an open, an attempt in the window) that also meet its
        # condition in the window, so it is a proportion whatever the window cuts.
        sent, delivered = "sent" in feedback_kinds, "delivered" in feedback_kinds
        attempted = bool(feedback_kinds & {"error", "sent", "bounce"})
        s["sent_messages"] += sent
        s["sent_messages_delivered"] += sent and delivered
        s["sent_messages_bounced"] += sent and "bounce" in feedback_kinds
        s["delivered_messages"] += delivered
        s["delivered_messages_opened"] += delivered and "open" in kinds
        s["delivered_messages_clicked"] += delivered and "click" in kinds
        s["delivered_messages_human_opened"] += delivered and "open" in human
        s["delivered_messages_human_clicked"] += delivered and "click" in human
        s["delivered_messages_complained"] += delivered and "spam_complaint" in kinds
        s["delivered_messages_unsubscribed"] += delivered and "unsubscribe" in kinds
        s["opened_messages_clicked"] += "open" in kinds and "click" in kinds
        s["attempted_messages"] += attempted
        s["attempted_messages_delivered"] += attempted and delivered
        s["attempted_messages_errored"] += "error" in feedback_kinds
        s["attempted_messages_failed"] += bool(feedback_kinds & {"error", "bounce"})
        for e in message_events:
            if e.table == "message_tracking_events" and e.kind == "click":
                clicking.add(message_key)
                agents.add((message_key, e.user_agent or ""))
        feedback = [e for e in message_events if e.table == "message_feedback_events"]
        if feedback:
            last = max(feedback, key=lambda e: (e.event_ts, PRECEDENCE[e.kind]))
            s["retries"] += last.kind == "retry"
    s["estimated_forwards"] = len(agents) - len(clicking)


def add_totals_and_rates(s: dict, channel: str) -> None:
    """The counts made of other counts, and the rates."""
    s["targeted"] = s["excluded"] + s["errors"] + s["sent"]
    s["interactions"] = s["clicks"] + s["dismissals"] + s["other_interactions"] if channel in ("inapp", "web") else 0
    s["engagements"] = s["opens"] + s["actions"]
    s["audience"] = len(s.pop("_profiles"))
    s["messages_to_deliver"] = s["errors"] + s["sent"]
    s["execution_errors"] = s["errors"] + s["bounces"]
    s["delivered_rate"] = ratio(s["sent_messages_delivered"], s["sent_messages"])
    s["bounce_rate"] = ratio(s["sent_messages_bounced"], s["sent_messages"])
    s["open_rate"] = ratio(s["delivered_messages_opened"], s["delivered_messages"])
    s["click_rate"] = ratio(s["delivered_messages_clicked"], s["delivered_messages"])
    s["human_open_rate"] = ratio(s["delivered_messages_human_opened"], s["delivered_messages"])
    s["human_click_rate"] = ratio(s["delivered_messages_human_clicked"], s["delivered_messages"])
    s["reactivity"] = ratio(s["unique_clicks"], s["estimated_unique_opens"])
    s["raw_reactivity"] = ratio(s["opened_messages_clicked"], s["unique_opens"])
    s["channel_reactivity"] = ratio(s["unique_channel_clicks"], s["unique_reached"])
    s["success_rate"] = ratio(s["attempted_messages_delivered"], s["attempted_messages"])
    s["error_rate"] = ratio(s["attempted_messages_errored"], s["attempted_messages"])
    s["execution_error_rate"] = ratio(s["attempted_messages_failed"], s["attempted_messages"])
    s["new_quarantine_rate"] = ratio(s["new_quarantines"], s["attempted_messages"])


def delivery_statistics(
    events: list[Event], mode: str, start: datetime | None, end: datetime | None, grain: str = "delivery"
) -> dict:
    first_feedback, first_any, first_hard_bounce = first_times(events)
    stats: dict[tuple, dict] = {}
    messages: dict[tuple, dict[tuple, list[Event]]] = defaultdict(lambda: defaultdict(list))
    executions: dict[tuple, set[str]] = defaultdict(set)
    for e in events:
        if not in_window(e.event_ts, mode, start, end):
            continue
        key = grain_key(e, grain)
        s = stats.setdefault(key, dict.fromkeys(COUNT_COLUMNS, 0) | {"_profiles": set()})
        messages[key][(e.delivery[1], e.message_id)].append(e)
        executions[key].add(e.delivery[1])
        if e.table == "message_feedback_events":
            if e.kind in STATUS_COUNTS:
                s[STATUS_COUNTS[e.kind]] += 1
            if e.kind == "bounce":
                s[f"{e.failure_type}_bounces"] += 1
            if e.kind in ("excluded", "error", "sent"):
                s["_profiles"].add(e.profile_id)
        elif e.table == "message_tracking_events":
            s[TRACKING_COUNTS[e.kind]] += 1
            if e.kind in ("open", "click") and e.machine_rule is None:
                s[f"human_{TRACKING_COUNTS[e.kind]}"] += 1
        else:
            s["offers_sent"] += 1
    for e in first_hard_bounce.values():
        if grain_key(e, grain) in stats and in_window(e.event_ts, mode, start, end):
            stats[grain_key(e, grain)]["new_quarantines"] += 1
    for delivery, s in stats.items():
        channel = delivery[-1]
        count_messages(s, messages[delivery], channel)
        if grain == "delivery":
            started = first_feedback.get(delivery, first_any[delivery])
            s["execution_started_at"] = started.strftime("%Y-%m-%d %H:%M:%S")
            s["is_sent_in_window"] = "true" if in_window(started, mode, start, end) else "false"
        else:
            s["executions"] = len(executions[delivery])
        add_totals_and_rates(s, channel)
    return stats


def breakdowns(events: list[Event], mode: str, start: datetime | None, end: datetime | None) -> dict[str, list[dict]]:
    """Reasons per delivery and kind; push messages per platform; clicks per link."""
    windowed = [e for e in events if in_window(e.event_ts, mode, start, end)]
    reasons: dict[tuple, int] = defaultdict(int)
    for e in windowed:
        if e.table == "message_feedback_events" and e.kind in ("excluded", "error", "bounce"):
            kind = {"excluded": "exclusion", "error": "error", "bounce": "bounce"}[e.kind]
            reasons[(*e.delivery, kind, e.failure_type or "unknown", e.reason)] += 1
    totals: dict[tuple, int] = defaultdict(int)
    for key, n in reasons.items():
        totals[key[:4]] += n
    reason_rows = [
        dict(
            zip(["campaign_id", "execution_id", "channel", "reason_kind", "failure_type", "reason"], key, strict=True),
            events=n,
            share_of_kind=n / totals[key[:4]],
        )
        for key, n in sorted(reasons.items())
    ]
    # A message's platform: the greatest platform value over all its events (all history).
    platform: dict[tuple, str] = {}
    for e in events:
        if e.platform:
            key = (*e.delivery, e.message_id)
            platform[key] = max(platform.get(key, e.platform), e.platform)
    per_platform: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in windowed:
        if e.delivery[2] != "push":
            continue
        key = (*e.delivery, platform.get((*e.delivery, e.message_id), "unknown"))
        if e.table == "message_feedback_events" and e.kind in STATUS_COUNTS:
            per_platform[key][STATUS_COUNTS[e.kind]] += 1
        if e.table == "message_tracking_events":
            per_platform[key][TRACKING_COUNTS[e.kind]] += 1
    platform_rows = []
    for key, c in sorted(per_platform.items()):
        platform_rows.append(
            dict(
                zip(["campaign_id", "execution_id", "channel", "platform"], key, strict=True),
                targeted=c["excluded"] + c["errors"] + c["sent"],
                excluded=c["excluded"],
                errors=c["errors"],
                sent=c["sent"],
                delivered=c["delivered"],
                bounces=c["bounces"],
                opens=c["opens"],
                actions=c["actions"],
            )
        )
    clicks: dict[tuple, list[str]] = defaultdict(list)
    human_clicks: dict[tuple, list[str]] = defaultdict(list)
    for e in windowed:
        if e.table == "message_tracking_events" and e.kind == "click":
            clicks[(*e.delivery, e.url or "unknown")].append(e.message_id)
            if e.machine_rule is None:
                human_clicks[(*e.delivery, e.url or "unknown")].append(e.message_id)
    delivery_clicks: dict[tuple, int] = defaultdict(int)
    for key, ids in clicks.items():
        delivery_clicks[key[:3]] += len(ids)
    link_rows = []
    by_delivery: dict[tuple, list] = defaultdict(list)
    clickers: dict[tuple, set[str]] = defaultdict(set)
    for key, ids in clicks.items():
        by_delivery[key[:3]].append((key[3], len(ids), len(set(ids)), human_clicks.get(key, [])))
        clickers[key[:3]] |= set(ids)
    for delivery, links in sorted(by_delivery.items()):
        links.sort(key=lambda link: (-link[1], link[0]))
        for rank, (url, n, unique, human) in enumerate(links, start=1):
            link_rows.append(
                {
                    "campaign_id": delivery[0],
                    "execution_id": delivery[1],
                    "channel": delivery[2],
                    "url": url,
                    "clicks": n,
                    "unique_clicks": unique,
                    "human_clicks": len(human),
                    "human_unique_clicks": len(set(human)),
                    "share_of_clicks": n / delivery_clicks[delivery],
                    "share_of_clickers": unique / len(clickers[delivery]),
                    "link_rank": rank,
                }
            )
    return {
        "reasons": reason_rows,
        "platforms": platform_rows,
        "top_links": link_rows,
        "domains": domain_breakdown(events, windowed),
    }


def domain_breakdown(events: list[Event], windowed: list[Event]) -> list[dict]:
    """Per email delivery and recipient domain (the message's domain over all history: the
    greatest domain of its feedback events): the page's per-domain widget: sent, complaints,
    openers (a click counts as an open), clickers and their ratio."""
    domain: dict[tuple, str] = {}
    for e in events:
        if e.table == "message_feedback_events" and e.address and "@" in e.address:
            key = (*e.delivery, e.message_id)
            value = e.address.rsplit("@", 1)[1]
            domain[key] = max(domain.get(key, value), value)
    per_domain: dict[tuple, dict] = defaultdict(lambda: {"sent": 0, "spam_complaints": 0, "_openers": set(), "_clickers": set()})
    for e in windowed:
        if e.delivery[2] != "email":
            continue
        row = per_domain[(*e.delivery, domain.get((*e.delivery, e.message_id), "unknown"))]
        if e.table == "message_feedback_events" and e.kind == "sent":
            row["sent"] += 1
        if e.table == "message_tracking_events" and e.kind == "spam_complaint":
            row["spam_complaints"] += 1
        if e.table == "message_tracking_events" and e.kind in ("open", "click"):
            row["_openers"].add(e.message_id)
        if e.table == "message_tracking_events" and e.kind == "click":
            row["_clickers"].add(e.message_id)
    rows = []
    for key, row in sorted(per_domain.items()):
        openers, clickers = len(row.pop("_openers")), len(row.pop("_clickers"))
        rows.append(
            dict(
                zip(["campaign_id", "execution_id", "channel", "recipient_domain"], key, strict=True),
                **row,
                openers=openers,
                clickers=clickers,
                recipient_raw_reactivity=ratio(clickers, openers),
            )
        )
    return rows


def write_csv(path: Path, header: list[str], rows: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell(row[c]) for c in header])


def cell(value: object) -> object:
    """A CSV cell: null empty, a float exactly (repr), a boolean as SQL writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else value


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw-dir", type=Path, required=True, help="folder with the four raw CSV files")
    parser.add_argument("--out", type=Path, required=True, help="per-delivery CSV to write")
    parser.add_argument("--mode", choices=["all", "live", "period"], default="all")
    parser.add_argument("--report-as-of", help="live: UTC 'YYYY-MM-DD HH:MM:SS'")
    parser.add_argument("--period-start", help="period: inclusive start")
    parser.add_argument("--period-end", help="period: exclusive end")
    parser.add_argument("--loaded-at", default="2100-01-01 00:00:00", help="load time for rows without ingested_at")
    parser.add_argument("--breakdowns-dir", type=Path, help="also write reasons, platforms and top links CSVs here")
    parser.add_argument("--reconciliation-out", type=Path, help="also write raw/staged/duplicate/rejected per table")
    parser.add_argument("--suppression-out", type=Path, help="also write every suppressed address's state intervals (CSV) here")
    parser.add_argument("--soft-error-threshold", type=int, default=5, help="consecutive soft errors that suppress")
    parser.add_argument(
        "--soft-error-spacing-hours", type=int, default=24, help="hours between errors of two deliveries for both to count"
    )
    parser.add_argument(
        "--machine-seconds-after-send",
        type=int,
        default=DEFAULT_SECONDS_AFTER_SEND,
        help="an email or SMS open or click this many seconds after a send is a machine's (0: rule off)",
    )
    parser.add_argument(
        "--experiments-out",
        type=Path,
        help="also write experiment_results (CSV) at --experiments-as-of here (tally.experiment_reference)",
    )
    parser.add_argument("--experiment-looks-out", type=Path, help="also write experiment_result_looks (CSV) here")
    parser.add_argument(
        "--experiments-as-of", help="UTC 'YYYY-MM-DD HH:MM:SS' the experiment results are as of (default: --report-as-of)"
    )
    parser.add_argument(
        "--experiment-outcome-window-hours",
        type=int,
        default=DEFAULT_WINDOW_HOURS,
        help="hours after its assignment within which a profile's success counts",
    )
    parser.add_argument(
        "--grain",
        choices=["delivery", "channel"],
        default="delivery",
        help="one row per delivery, or per campaign x channel (a campaign report's channel tab)",
    )
    args = parser.parse_args(argv)
    start = end = None
    if args.mode == "live":
        if not args.report_as_of:
            parser.error("--mode live needs --report-as-of")
        as_of = datetime.strptime(args.report_as_of, "%Y-%m-%d %H:%M:%S")
        start, end = as_of - timedelta(hours=24), as_of - timedelta(minutes=2)
    elif args.mode == "period":
        start = datetime.strptime(args.period_start, "%Y-%m-%d %H:%M:%S") if args.period_start else None
        end = datetime.strptime(args.period_end, "%Y-%m-%d %H:%M:%S") if args.period_end else None
    staged = stage(args.raw_dir, datetime.strptime(args.loaded_at, "%Y-%m-%d %H:%M:%S"), args.machine_seconds_after_send)
    stats = delivery_statistics(staged.events, args.mode, start, end, args.grain)
    keys = ["campaign_id", "execution_id", "channel"] if args.grain == "delivery" else ["campaign_id", "channel"]
    extra = ["execution_started_at", "is_sent_in_window"] if args.grain == "delivery" else ["executions"]
    header = keys + extra + COUNT_COLUMNS + RATE_COLUMNS
    rows = [dict(zip(keys, key, strict=True)) | s for key, s in sorted(stats.items())]
    write_csv(args.out, header, rows)
    if args.breakdowns_dir:
        for name, table_rows in breakdowns(staged.events, args.mode, start, end).items():
            if table_rows:
                write_csv(args.breakdowns_dir / f"{name}.csv", list(table_rows[0]), table_rows)
    if args.suppression_out:
        states = suppression_states(staged.events, args.soft_error_threshold, timedelta(hours=args.soft_error_spacing_hours))
        header = list(states[0]) if states else ["recipient_address_hash"]
        write_csv(args.suppression_out, header, states)
    if args.experiments_out or args.experiment_looks_out:
        moment = args.experiments_as_of or args.report_as_of
        if not moment:
            parser.error("--experiments-out needs --experiments-as-of (or --report-as-of)")
        results, looks = experiment_results(
            staged.events, datetime.strptime(moment, "%Y-%m-%d %H:%M:%S"), args.experiment_outcome_window_hours
        )
        if args.experiments_out:
            write_csv(args.experiments_out, EXPERIMENT_RESULT_COLUMNS, results)
        if args.experiment_looks_out:
            write_csv(args.experiment_looks_out, EXPERIMENT_LOOK_COLUMNS, looks)
    if args.reconciliation_out:
        recon = [{"table_name": t} | c for t, c in staged.counts.items()]
        write_csv(args.reconciliation_out, list(recon[0]), recon)
    print(f"{len(rows)} deliveries -> {args.out}")
    for table, tally in staged.counts.items():
        print(f"  {table}: {tally}")
    return 0
