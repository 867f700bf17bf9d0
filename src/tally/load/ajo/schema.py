"""What the platform writes: the datasets the `ajo` layout reads (Message Feedback, Email
Tracking, Push Tracking, Entity), the field paths that identify each, and the field paths
the mapping reads (its schema), with the DuckDB type of a kept record."""

from __future__ import annotations

from dataclasses import dataclass

from tally.common import quote_ident

TEXT = "VARCHAR"
NULL_TEXT = "cast(null as varchar)"
AUTO = "auto"


@dataclass(frozen=True)
class ListOf:
    """An array of `item` in a schema."""

    item: Node


Node = str | dict | ListOf
IDENTITY_MAP = "identityMap"  # a map<namespace, array<{id, primary, authenticatedState}>>, resolved specially
IDENTITY_ENTRY = ("id", "primary", "authenticatedState")
IDENTITY_MAP_TYPE = 'MAP(VARCHAR, STRUCT("id" VARCHAR, "primary" VARCHAR, "authenticatedState" VARCHAR)[])'


def texts(*names: str) -> dict[str, Node]:
    return dict.fromkeys(names, TEXT)


# The field paths the mapping reads or decides on (docs/decisions.md, "AJO layout"). The
# three event datasets share their core field groups; each adds its own block. The content
# id `messageID` and the bounce `category` are kept for the mapping questions they answer,
# although no contract column takes them.
CORE_SCHEMA: dict[str, Node] = {
    "_id": TEXT,
    "timestamp": TEXT,
    "eventType": TEXT,
    "identityMap": IDENTITY_MAP,
    "_acp_system_metadata": texts("ingestTime"),
}


EXECUTION_AND_PROFILE: dict[str, Node] = {
    "messageExecution": {
        **texts(
            "messageExecutionID",
            "batchInstanceID",
            "messageID",
            "campaignID",
            "ajoCampaignID",
            "journeyVersionID",
            "journeyVersionInstanceID",
        ),
        "parentSourceMeta": texts("sourceID"),
    },
    "messageProfile": {**texts("messageProfileID", "isTestExecution", "variant"), "channel": texts("_id")},
}


FEEDBACK_SCHEMA: dict[str, Node] = {
    **CORE_SCHEMA,
    "_experience": {
        "customerJourneyManagement": {
            **EXECUTION_AND_PROFILE,
            "emailChannelContext": texts("address"),
            "pushChannelContext": texts("platform"),
            "messageDeliveryfeedback": {
                "feedbackStatus": TEXT,
                "messageFailure": texts("type", "category", "reason", "code"),
                "messageExclusion": texts("code", "reason"),
                "offers": texts("offerID"),
            },
        },
        "decisioning": {"channelType": TEXT, "propositions": ListOf({"items": ListOf(texts("id"))})},
    },
    "environment": {"operatingSystem": TEXT},
}


EMAIL_TRACKING_SCHEMA: dict[str, Node] = {
    **CORE_SCHEMA,
    "_experience": {
        "customerJourneyManagement": {
            **EXECUTION_AND_PROFILE,
            "messageInteraction": {
                **texts("interactionType", "url", "urlID", "label", "isBot"),
                "offers": texts("offerID"),
                "environment": {"browserDetails": texts("userAgent")},
            },
        },
        "decisioning": {"channelType": TEXT},
    },
    "environment": {"operatingSystem": TEXT, "browserDetails": texts("userAgent")},
}


PUSH_TRACKING_SCHEMA: dict[str, Node] = {
    **CORE_SCHEMA,
    "_experience": {
        "customerJourneyManagement": {**EXECUTION_AND_PROFILE, "pushChannelContext": texts("platform")},
        "decisioning": {"channelType": TEXT},
    },
    "pushNotificationTracking": {"pushProvider": TEXT, "customAction": texts("actionID")},
    "environment": {"operatingSystem": TEXT, "browserDetails": texts("userAgent")},
}


ENTITY_SCHEMA: dict[str, Node] = {
    "_id": TEXT,
    "_experience": {
        "customerJourneyManagement": {
            "entities": {
                "campaign": texts("campaignID", "name"),
                "journey": texts("journeyID", "journeyVersionID", "journeyName", "journeyNameAndVersion"),
                "orchestratedCampaign": texts("campaignID", "name"),
                "channelDetails": {
                    **texts("messageID", "messagePublishedAt", "variantID", "variantName"),
                    "channel": texts("_id"),
                },
                "experiment": texts("experimentId", "experimentName", "treatmentID", "treatmentName"),
                "timestamp": texts("lastModifiedAt"),
            }
        }
    },
}


CJM = "_experience.customerJourneyManagement"
EMAIL_ADDRESS = f"{CJM}.emailChannelContext.address"
PROPOSITION_ITEMS = "_experience.decisioning.propositions"


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str
    required: tuple[str, ...]  # field paths that identify it, in the order they are checked
    tables: tuple[str, ...]  # the contract tables it feeds
    schema: dict[str, Node]
    records_table: str
    default_channel: str | None = None


DATASETS = (
    Dataset(
        "message_feedback",
        "AJO Message Feedback Event Dataset",
        ("_id", "timestamp", f"{CJM}.messageExecution.messageExecutionID", f"{CJM}.messageDeliveryfeedback.feedbackStatus"),
        ("message_feedback_events", "offer_propositions"),
        FEEDBACK_SCHEMA,
        "ajo_message_feedback_records",
    ),
    Dataset(
        "email_tracking",
        "AJO Email Tracking Experience Event Dataset",
        ("_id", "timestamp", f"{CJM}.messageExecution.messageExecutionID", f"{CJM}.messageInteraction.interactionType"),
        ("message_tracking_events",),
        EMAIL_TRACKING_SCHEMA,
        "ajo_email_tracking_records",
        "email",
    ),
    Dataset(
        "push_tracking",
        "AJO Push Tracking Experience Event Dataset",
        ("_id", "timestamp", "eventType", f"{CJM}.messageExecution.messageExecutionID", "pushNotificationTracking"),
        ("message_tracking_events",),
        PUSH_TRACKING_SCHEMA,
        "ajo_push_tracking_records",
        "push",
    ),
    Dataset(
        "entity",
        "AJO Entity Dataset",
        ("_id", f"{CJM}.entities"),
        ("campaigns",),
        ENTITY_SCHEMA,
        "ajo_entity_records",
    ),
)


BCC_PATH = f"{CJM}.secondaryRecipientDetail"


def record_type(schema: Node) -> str:
    if schema == IDENTITY_MAP:
        return IDENTITY_MAP_TYPE
    if isinstance(schema, str):
        return schema
    if isinstance(schema, ListOf):
        return record_type(schema.item) + "[]"
    return "STRUCT(" + ", ".join(f"{quote_ident(n)} {record_type(c)}" for n, c in schema.items()) + ")"
