"""The independent reference's machine rules: every open and click classified one event at
a time, in plain Python, as docs/decisions.md ("Machine opens and clicks") states them. The
dbt project classifies the same events in SQL (fct_open_click_events); the golden tests
compare the two."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

# The user-agent fragments of dbt_project.yml's var machine_user_agent_patterns (a test
# checks that the two lists are the same).
DEFAULT_USER_AGENT_PATTERNS = (
    "googleimageproxy",
    "yahoomailproxy",
    "bingpreview",
    "barracuda",
    "proofpoint",
    "mimecast",
    "safelinks",
    "linkscanner",
    "urldefense",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "curl/",
    "wget/",
    "bot/",
    "spider",
    "crawler",
)
DEFAULT_SECONDS_AFTER_SEND = 10
RULES = ("platform_flag", "known_agent", "link_burst", "soon_after_send")


class TrackedEvent(Protocol):
    table: str
    event_id: str
    event_ts: object
    delivery: tuple
    message_id: str
    kind: str
    url: str | None
    user_agent: str | None
    is_bot: bool | None


def classify(
    events: Iterable[TrackedEvent],
    seconds_after_send: int = DEFAULT_SECONDS_AFTER_SEND,
    patterns: Iterable[str] = DEFAULT_USER_AGENT_PATTERNS,
) -> dict[str, str]:
    """event_id -> the rule that makes an open or click a machine's (absent: a human's)."""
    patterns = [p.lower() for p in patterns]
    events = list(events)
    sends: dict[tuple, list] = defaultdict(list)
    urls_per_second: dict[tuple, set] = defaultdict(set)
    for e in events:
        if e.table == "message_feedback_events" and e.kind == "sent":
            sends[(*e.delivery, e.message_id)].append(e.event_ts)
        if e.table == "message_tracking_events" and e.kind == "click":
            urls_per_second[(*e.delivery, e.message_id, e.event_ts.replace(microsecond=0))].add(e.url)
    window = timedelta(seconds=seconds_after_send)
    rules: dict[str, str] = {}
    for e in events:
        if e.table != "message_tracking_events" or e.kind not in ("open", "click"):
            continue
        message = (*e.delivery, e.message_id)
        agent = (e.user_agent or "").lower()
        # SQL's count(distinct url) leaves out a missing URL
        burst_urls = {u for u in urls_per_second.get((*message, e.event_ts.replace(microsecond=0)), set()) if u is not None}
        if e.is_bot:
            rules[e.event_id] = "platform_flag"
        elif e.user_agent is not None and any(p in agent for p in patterns):
            rules[e.event_id] = "known_agent"
        elif e.kind == "click" and len(burst_urls) > 1:
            rules[e.event_id] = "link_burst"
        elif (
            seconds_after_send > 0
            and e.delivery[2] in ("email", "sms")
            and any(sent <= e.event_ts <= sent + window for sent in sends.get(message, ()))
        ):
            rules[e.event_id] = "soon_after_send"
    return rules
