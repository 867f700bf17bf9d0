"""The raw event contract, stated once: the raw tables, their columns in order, which of
them every file must carry, and the values the contract allows (docs/raw-event-contract.md).

Read by the loader (tally.load: which columns a file may and must have), the generator and
its AJO exports (tally.generate: the columns it writes) and the independent reference
(tally.reference: what a valid row is). The dbt staging models enforce the same rules in
SQL, independently: the reference checks them, so it must never read the models.
"""

from __future__ import annotations

RAW_SCHEMA = "raw"

# The columns every event table starts with, in order.
EVENT_KEYS = ("event_id", "event_ts", "ingested_at", "campaign_id", "execution_id", "message_id", "profile_id", "channel")


def event_columns(*own: tuple[str, bool]) -> list[tuple[str, bool]]:
    """An event table's columns: the shared keys (all required but `ingested_at`, which the
    loader stamps with the load time when absent), then the table's own."""
    return [(name, name != "ingested_at") for name in EVENT_KEYS] + list(own)


# Contract columns per table, in order; the flag says whether the column must be present in
# every file (value-required columns). Optional columns may be absent and load as null.
CONTRACT: dict[str, list[tuple[str, bool]]] = {
    "message_feedback_events": event_columns(
        ("status", True),
        ("failure_type", False),
        ("reason", False),
        ("recipient_address", False),
        ("platform", False),
        ("experiment_id", False),
        ("experiment_name", False),
        ("treatment_id", False),
        ("treatment_name", False),
    ),
    "message_tracking_events": event_columns(
        ("interaction", True),
        ("url", False),
        ("element_id", False),
        ("offer_id", False),
        ("platform", False),
        ("user_agent", False),
        ("is_bot", False),
    ),
    "offer_propositions": event_columns(("offer_id", True)),
    "campaigns": [
        ("campaign_id", True),
        ("campaign_name", False),
        ("campaign_type", False),
        ("created_at", False),
        ("ingested_at", False),
    ],
}
TABLES = tuple(CONTRACT)


def columns(table: str) -> list[str]:
    """The table's contract columns, in order."""
    return [name for name, _ in CONTRACT[table]]


# The values the contract allows (lower-cased, trimmed), and which interactions each
# channel can have.
CHANNELS = ("email", "sms", "push", "inapp", "web", "direct_mail")
STATUSES = ("excluded", "error", "sent", "delivered", "bounce", "retry")
FAILURE_TYPES = ("hard", "soft", "ignored")
ALLOWED_INTERACTIONS: dict[str, frozenset[str]] = {
    "email": frozenset({"open", "click", "unsubscribe", "spam_complaint", "mirror_page", "forward"}),
    "sms": frozenset({"click", "unsubscribe"}),
    "push": frozenset({"open", "action"}),
    "inapp": frozenset({"impression", "click", "dismiss", "interaction"}),
    "web": frozenset({"impression", "click", "interaction"}),
    "direct_mail": frozenset(),
}
