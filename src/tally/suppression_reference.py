"""The suppression state of each address, computed independently of the dbt models.

Plain Python over the staged events of tally.reference, written from the rules as
docs/decisions.md ("Suppression state") states them, one event at a time per address, in
time order, as the platform applies them (not from the SQL, which derives the same states
with window functions):

* a hard bounce quarantines the address; a spam complaint (the complained message's
  address) denylists it;
* soft errors (soft bounces, retries without another failure type) are counted; a delivery
  resets the count; an error of another delivery than the previous error counts only when
  at least `spacing` after it; the `threshold`-th counted error quarantines the address;
* a send to a suppressed address releases it (the platform excludes suppressed addresses
  before sending); a stronger rule while suppressed (complaint > hard bounce > soft errors)
  starts a new state with the same suppressed_since.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tally.reference calls this module: no import at run time
    from tally.reference import Event

STRENGTH = {"soft_error_threshold": 1, "hard_bounce": 2, "spam_complaint": 3}
DEFAULT_SALT = "messaging-warehouse-local-salt"


def address_hash(address: str) -> str:
    """The warehouse's salted SHA-256 of an address (macros/hash_pii.sql)."""
    salt = os.environ.get("PII_HASH_SALT", DEFAULT_SALT)
    return hashlib.sha256((salt + address.strip().lower()).encode()).hexdigest()


@dataclass
class State:
    address: str
    state: str
    rule: str | None
    reason: str | None
    valid_from: datetime
    valid_to: datetime | None = None
    suppressed_since: datetime | None = None
    released_at: datetime | None = None
    consecutive_soft_errors: int | None = None
    event_id: str | None = None

    def row(self) -> dict[str, object]:
        domain = self.address.rsplit("@", 1)[1] if "@" in self.address else None
        return {
            "recipient_address_hash": address_hash(self.address),
            "recipient_domain": domain,
            "state": self.state,
            "suppression_rule": self.rule,
            "reason": self.reason,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "suppressed_since": self.suppressed_since,
            "released_at": self.released_at,
            "consecutive_soft_errors": self.consecutive_soft_errors,
            "event_id": self.event_id,
        }


def kind_of(event: Event) -> str | None:
    if event.table == "message_tracking_events":
        return "spam_complaint" if event.kind == "spam_complaint" else None
    if event.table != "message_feedback_events":
        return None
    if event.kind in ("sent", "delivered"):
        return event.kind
    if event.kind == "bounce" and event.failure_type == "hard":
        return "hard_bounce"
    if event.kind == "bounce" and event.failure_type == "soft":
        return "soft_error"
    if event.kind == "retry" and event.failure_type in (None, "soft"):
        return "soft_error"
    return None


def address_events(events: list[Event]) -> dict[str, list[tuple[str, Event]]]:
    """Each address's events that the rules read; a complaint takes its message's address."""
    message_address: dict[tuple, str] = {}
    for e in sorted(events, key=lambda e: (e.event_ts, e.event_id)):
        if e.table == "message_feedback_events" and e.address:
            message_address.setdefault((e.delivery, e.message_id), e.address)
    by_address: dict[str, list[tuple[str, Event]]] = {}
    for e in events:
        kind = kind_of(e)
        address = e.address if e.table == "message_feedback_events" else message_address.get((e.delivery, e.message_id))
        if kind and address:
            by_address.setdefault(address, []).append((kind, e))
    return by_address


def address_states(address: str, stream: list[tuple[str, Event]], threshold: int, spacing: timedelta) -> list[State]:
    # A send at the same instant as a suppressing event comes first: it cannot release it.
    stream = sorted(stream, key=lambda item: (item[1].event_ts, 0 if item[0] == "sent" else 1, item[1].event_id))
    states = [State(address, "active", None, None, stream[0][1].event_ts)]
    suppression: list[State] = []  # the states of the suppression in force, if any
    count = 0
    last_error: Event | None = None
    for kind, event in stream:
        rule = None
        if kind == "sent":
            if suppression:
                for state in suppression:
                    state.released_at = event.event_ts
                suppression = []
                states.append(State(address, "active", None, None, event.event_ts))
        elif kind == "delivered":
            count, last_error = 0, None
        elif kind == "soft_error":
            counts = (
                last_error is None or last_error.delivery == event.delivery or event.event_ts >= last_error.event_ts + spacing
            )
            last_error = event
            count += 1 if counts else 0
            if count >= threshold:
                rule = "soft_error_threshold"
        else:
            rule = kind
        if rule and (not suppression or STRENGTH[rule] > STRENGTH[suppression[-1].rule or ""]):
            since = suppression[0].suppressed_since if suppression else event.event_ts
            state = State(
                address,
                "denylisted" if rule == "spam_complaint" else "quarantined",
                rule,
                event.reason if kind != "spam_complaint" else "spam_complaint",
                event.event_ts,
                suppressed_since=since,
                consecutive_soft_errors=count if rule == "soft_error_threshold" else None,
                event_id=event.event_id,
            )
            suppression.append(state)
            states.append(state)
    for state, following in zip(states, states[1:], strict=False):
        state.valid_to = following.valid_from
    # A state that another replaces at the same instant lasts no time.
    return [s for s in states if s.valid_to is None or s.valid_to > s.valid_from]


def suppression_states(
    events: list[Event], threshold: int = 5, spacing: timedelta = timedelta(hours=24)
) -> list[dict[str, object]]:
    """Every state interval of every address its events ever suppressed."""
    rows: list[dict[str, object]] = []
    for address, stream in sorted(address_events(events).items()):
        states = address_states(address, stream, threshold, spacing)
        if any(s.state != "active" for s in states):
            rows.extend(s.row() for s in states)
    return rows
