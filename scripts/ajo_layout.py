"""The `ajo` layout of scripts/load_events.py: the platform's own exports, read as it writes them.

Adobe Journey Optimizer (AJO) records every send and every interaction in system datasets
with nested XDM records (../shared/ajo-datasets.md). This module reads dataset exports of
the Message Feedback, Email Tracking and Push Tracking datasets (newline-delimited JSON,
gzipped or not, and nested Parquet) and of the Entity dataset, and lands them in the same
raw tables as the flat contract, with the same promises: one transaction per invocation, a
file already loaded into a table is skipped, a file that is not such an export is refused
whole (the file and the first missing field path named; exit 2), every value lands as
text for staging to judge. The mapping is decided in docs/decisions.md ("AJO layout").

How a file is read:
1. Its structure (JSON: the keys of the first 20,000 records; Parquet: its schema) tells
   the dataset, by required field paths, matched case-insensitively (the platform's own
   queries spell `messagedeliveryfeedback` and `messageDeliveryfeedback`).
2. DuckDB reads the whole file into one canonical nested record per line (`read_json` with
   an explicit schema in the file's own key case, or `read_parquet`, then a by-name cast):
   every field path of the fact sheet, leaves as text, unknown fields ignored (and named
   in `raw._ajo_file_audit`). This happens in memory, before the warehouse is opened, so a
   file that cannot be read (truncated gzip, a line that is not an object) is refused
   with nothing loaded.
3. One `insert ... select` per target table flattens the records into contract columns,
   and one more keeps the records, PII hashed, in `raw.ajo_event_records` /
   `raw.ajo_entity_records` for mapping questions. No Python loop touches a row.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Union

import duckdb

import load_events as flat
import warehouse_settings as settings

RefusedFile = flat.RefusedFile
TEXT = "VARCHAR"
SAMPLE_RECORDS = 20000
AUTO = "auto"
# Same salt and rule as staging's hash_pii macro (macros/hash_pii.sql): the hashes here join
# staging's recipient_address_hash.
PII_SALT_ENV = "PII_HASH_SALT"
PII_SALT_DEFAULT = "messaging-warehouse-local-salt"
# Identity namespaces whose ids are addresses (matched lower-case).
EMAIL_NAMESPACES = ("email", "emailaddress")
PHONE_NAMESPACES = ("phone", "phone_e.164", "phonenumber", "mobile")
EMAIL_SHAPE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE_SHAPE = r"\+?[0-9][0-9 .()-]{6,18}[0-9]"
TS_TEXT = "%Y-%m-%d %H:%M:%S.%f"
ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?"
JSON_SUFFIXES = (".json", ".json.gz", ".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True)
class ListOf:
    """An array of `item` in the canonical schema."""

    item: "Node"


Node = Union[str, dict, ListOf]


def texts(*names: str) -> dict[str, Node]:
    return {name: TEXT for name in names}


IDENTITY_MAP = 'MAP(VARCHAR, STRUCT("id" VARCHAR, "primary" VARCHAR, "authenticatedState" VARCHAR)[])'
OFFERS = texts("offerID", "placementID", "propositionID", "offerCount", "scopeID", "activityID")
BROWSER = {"browserDetails": texts("userAgent"), "ipV4": TEXT}

# Every field path of the fact sheet that a mapping question may need, for the three event
# datasets (one schema: the datasets share their field groups). Leaves are text as received.
EVENT_SCHEMA: dict[str, Node] = {
    "_id": TEXT,
    "timestamp": TEXT,
    "eventType": TEXT,
    "identityMap": IDENTITY_MAP,
    "_acp_system_metadata": texts("ingestTime"),
    "_experience": {
        "customerJourneyManagement": {
            "messageExecution": {
                **texts(
                    "messageExecutionID", "messageID", "messagePublicationID", "messageLabel", "journeyVersionID",
                    "journeyVersionInstanceID", "journeyVersionNodeID", "journeyActionID", "campaignID",
                    "campaignVersionID", "campaignActionID", "ajoCampaignID", "ajoCampaignVersionID",
                    "batchInstanceID", "waveID", "messageType",
                ),
                "parentSourceMeta": texts("sourceType", "sourceID", "sourceVersionID", "sourceActionID"),
            },
            "messageProfile": {
                **texts("messageProfileID", "messageProfileTrackingID", "requestID", "variant", "isTestExecution",
                        "isSendTimeOptimized"),
                "channel": texts("_id", "_type"),
            },
            "emailChannelContext": texts("address", "namespace", "domain", "outboundIP"),
            "pushChannelContext": texts("platform"),
            "smsChannelContext": texts("smsProvider", "messageType", "channelType"),
            "messageDeliveryfeedback": {
                **texts("feedbackStatus", "retryCount", "requestTimestamp", "firstAttemptTimestamp"),
                "messageFailure": texts("type", "category", "reason", "code"),
                "messageExclusion": texts("code", "reason"),
                "offers": OFFERS,
            },
            "messageInteraction": {
                **texts("interactionType", "url", "urlID", "label", "trackingType", "entityType", "isBot"),
                "offers": OFFERS,
                "environment": BROWSER,
            },
            "secondaryRecipientDetail": texts("type"),
        },
        "decisioning": {
            "channelType": TEXT,
            "propositions": ListOf({
                "id": TEXT,
                "scope": TEXT,
                "scopeDetails": texts("correlationID"),
                "items": ListOf(texts("id", "name")),
            }),
            "propositionAction": texts("id", "label"),
        },
    },
    "pushNotificationTracking": {
        **texts("pushProviderMessageID", "pushProvider", "isLaunch"),
        "customAction": texts("actionID", "value"),
    },
    "application": {"launches": texts("value")},
    "environment": {**texts("operatingSystem", "operatingSystemVersion"), **BROWSER},
}

ENTITY_SCHEMA: dict[str, Node] = {
    "_id": TEXT,
    "_experience": {
        "customerJourneyManagement": {
            "entities": {
                "campaign": texts("campaignID", "campaignVersionID", "name", "campaignActionID", "identityNamespace"),
                "journey": texts("journeyID", "journeyVersionID", "journeyName", "journeyNameAndVersion", "journeyActionID"),
                "orchestratedCampaign": texts("campaignID", "campaignVersionID", "name"),
                "channelDetails": {
                    **texts("messageID", "messagePublicationID", "variantID", "messagePublishedAt"),
                    "channel": texts("_id"),
                },
                "timestamp": texts("lastModifiedAt"),
            }
        }
    },
}

CJM = "_experience.customerJourneyManagement"
# Leaves holding an address (or an IP): hashed before a record is kept.
PII_LEAVES = (
    ("_experience", "customerJourneyManagement", "emailChannelContext", "address"),
    ("_experience", "customerJourneyManagement", "messageInteraction", "environment", "ipV4"),
    ("environment", "ipV4"),
)


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
        "message_feedback", "AJO Message Feedback Event Dataset",
        ("_id", "timestamp", f"{CJM}.messageExecution.messageExecutionID", f"{CJM}.messageDeliveryfeedback.feedbackStatus"),
        ("message_feedback_events", "offer_propositions"), EVENT_SCHEMA, "ajo_event_records",
    ),
    Dataset(
        "email_tracking", "AJO Email Tracking Experience Event Dataset",
        ("_id", "timestamp", f"{CJM}.messageExecution.messageExecutionID", f"{CJM}.messageInteraction.interactionType"),
        ("message_tracking_events",), EVENT_SCHEMA, "ajo_event_records", "email",
    ),
    Dataset(
        "push_tracking", "AJO Push Tracking Experience Event Dataset",
        ("_id", "timestamp", "eventType", f"{CJM}.messageExecution.messageExecutionID", "pushNotificationTracking"),
        ("message_tracking_events",), EVENT_SCHEMA, "ajo_event_records", "push",
    ),
    Dataset(
        "entity", "AJO Entity Dataset", ("_id", f"{CJM}.entities"), ("campaigns",), ENTITY_SCHEMA, "ajo_entity_records",
    ),
)
BCC_PATH = f"{CJM}.secondaryRecipientDetail"


# ---------------------------------------------------------------------------- structure


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def structure_of_type(column_type: duckdb.typing.DuckDBPyType) -> object:
    """A DuckDB type as the nested dict/list/str shape json_group_structure returns."""
    if column_type.id == "struct":
        return {name: structure_of_type(child) for name, child in column_type.children}
    if column_type.id == "list":
        return [structure_of_type(column_type.child)]
    return str(column_type)


def match_key(structure: object, name: str) -> list[str]:
    if not isinstance(structure, dict):
        return []
    return [key for key in structure if key.lower() == name.lower()]


def has_path(structure: object, dotted: str) -> bool:
    node = structure
    for name in dotted.split("."):
        while isinstance(node, list) and node:
            node = node[0]
        keys = match_key(node, name)
        if not keys:
            return False
        node = node[keys[0]]
    return True


def unknown_fields(structure: object, schema: Node, prefix: str = "") -> list[str]:
    """Field paths present in the file that the canonical schema does not keep."""
    while isinstance(structure, list) and structure:
        structure = structure[0]
    if isinstance(schema, ListOf):
        return unknown_fields(structure, schema.item, prefix)
    if not isinstance(schema, dict) or not isinstance(structure, dict):
        return []
    found = []
    known = {name.lower(): child for name, child in schema.items()}
    for key, child_structure in structure.items():
        path = f"{prefix}{key}"
        if key.lower() not in known:
            found.append(path)
        else:
            found.extend(unknown_fields(child_structure, known[key.lower()], path + "."))
    return found


def type_sql(schema: Node, structure: object, path: str, source: Path) -> str:
    """The canonical type, spelled with the file's own key case (read_json matches keys
    case-sensitively; the by-name cast that follows does not)."""
    while isinstance(structure, list) and structure:
        structure = structure[0]
    if isinstance(schema, str):
        return schema
    if isinstance(schema, ListOf):
        return type_sql(schema.item, structure, path, source) + "[]"
    parts = []
    for name, child in schema.items():
        keys = match_key(structure, name)
        if len(keys) > 1:
            raise RefusedFile(
                f"{source}: keys {', '.join(repr(f'{path}{k}') for k in keys)} differ only by case; "
                "one export holds one spelling of each field path", source
            )
        actual = keys[0] if keys else name
        child_structure = structure[actual] if keys else None
        parts.append(f"{quote_ident(actual)} {type_sql(child, child_structure, f'{path}{actual}.', source)}")
    return f"STRUCT({', '.join(parts)})"


def canonical_type(schema: Node) -> str:
    return type_sql(schema, None, "", Path("."))


# ---------------------------------------------------------------------------- detection


@dataclass
class StagedFile:
    """A file read into memory as canonical records, ready to land."""

    path: Path
    sha256: str
    file_format: str
    dataset: Dataset
    tables: list[str]
    batch: str  # temp table holding the canonical records
    records: int
    ignored_fields: list[str] = field(default_factory=list)


def file_format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(JSON_SUFFIXES):
        return "json"
    raise RefusedFile(
        f"{path}: unknown file type; an AJO export is .json (or .json.gz, NDJSON, one record per line) or .parquet", path
    )


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def sample_structure(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> tuple[object, list[str]]:
    """The file's field structure and its top-level column names."""
    literal = quote_literal(str(path))
    try:
        if file_format == "parquet":
            relation = con.sql(f"select * from read_parquet({literal})")
            structure = {name: structure_of_type(column_type) for name, column_type in zip(relation.columns, relation.types)}
            return structure, list(relation.columns)
        row = con.execute(
            f"select json_group_structure(json) from (select json from read_ndjson_objects({literal}) limit {SAMPLE_RECORDS})"
        ).fetchone()
    except duckdb.Error as error:
        raise RefusedFile(f"{path}: cannot be read as {file_format}: {first_line(error)}", path) from error
    structure = json.loads(row[0]) if row and row[0] else None
    if structure is None:
        raise RefusedFile(f"{path}: the file holds no record; expected one JSON object per line", path)
    if not isinstance(structure, dict):
        raise RefusedFile(f"{path}: not one JSON object per line (found {json.dumps(structure)[:60]}); "
                          "an AJO JSON export holds one XDM record per line", path)
    return structure, list(structure)


def record_root(structure: dict) -> tuple[list[str], object]:
    """The XDM record's path: the top level, or `body.xdmEntity` of a streaming envelope."""
    if match_key(structure, "_id") or not match_key(structure, "body"):
        return [], structure
    body = structure[match_key(structure, "body")[0]]
    entity = match_key(body, "xdmEntity")
    if not entity:
        return [], structure
    return [match_key(structure, "body")[0], entity[0]], body[entity[0]]


def datasets_for(table: str) -> list[Dataset]:
    return [dataset for dataset in DATASETS if table == AUTO or table in dataset.tables]


def identify(structure: object, table: str, path: Path) -> Dataset:
    """The dataset whose required field paths the file has; refuses naming the first one
    missing (or the dataset it is, when that dataset does not feed `table`)."""
    complete = [d for d in DATASETS if all(has_path(structure, p) for p in d.required)]
    if complete:
        dataset = complete[0]
        if dataset.key == "message_feedback" and has_path(structure, BCC_PATH):
            raise RefusedFile(
                f"{path}: an AJO Secondary Recipient (BCC) Feedback export (field path '{BCC_PATH}'): copies kept for "
                "archiving, not loaded (they would count every send twice)", path
            )
        if table != AUTO and table not in dataset.tables:
            raise RefusedFile(
                f"{path}: an {dataset.title} export, which feeds {' and '.join(dataset.tables)}, not {table}", path
            )
        return dataset
    candidates = datasets_for(table)

    def missing(dataset: Dataset) -> list[str]:
        return [p for p in dataset.required if not has_path(structure, p)]

    closest = min(candidates, key=lambda d: len(missing(d)))
    others = [d.title for d in candidates if d is not closest]
    also = f" (nor an export of {', '.join(others)})" if others else ""
    raise RefusedFile(
        f"{path}: not an {closest.title} export: missing field path '{missing(closest)[0]}'{also}", path
    )


# ---------------------------------------------------------------------------- reading


def reader_sql(path: Path, file_format: str, dataset: Dataset, structure: dict, root: list[str], columns: list[str]) -> str:
    """A select of one canonical record `r` per line of the file."""
    literal = quote_literal(str(path))
    target = canonical_type(dataset.schema)
    if file_format == "json":
        if root:
            spec_type = type_sql(dataset.schema, structure[root[0]][root[1]], ".".join(root) + ".", path)
            spec = {root[0]: f"STRUCT({quote_ident(root[1])} {spec_type})"}
            record = f"{quote_ident(root[0])}.{quote_ident(root[1])}"
        else:
            spec = {}
            for name, child in dataset.schema.items():
                keys = match_key(structure, name)
                actual = keys[0] if keys else name
                spec[actual] = type_sql(child, structure.get(actual), f"{actual}.", path)
            record = "{" + ", ".join(f"{quote_literal(name)}: {quote_ident(name)}" for name in spec) + "}"
        spec_sql = "{" + ", ".join(f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in spec.items()) + "}"
        source = f"read_json({literal}, format = 'newline_delimited', records = 'true', columns = {spec_sql})"
        return f"select cast({record} as {target}) as r from {source}"
    source = f"read_parquet({literal})"
    if root:
        return f"select cast({quote_ident(root[0])}.{quote_ident(root[1])} as {target}) as r from {source}"
    present = []
    for name in dataset.schema:
        keys = [column for column in columns if column.lower() == name.lower()]
        if keys:
            present.append(f"{quote_literal(name)}: {quote_ident(keys[0])}")
    return f"select cast({{{', '.join(present)}}} as {target}) as r from {source}"


def stage_file(con: duckdb.DuckDBPyConnection, table: str, path: Path, index: int) -> StagedFile:
    """Identifies, reads and checks one file into an in-memory temp table; refuses it whole
    (RefusedFile naming the file) if it is not a readable export of a dataset feeding `table`."""
    if not path.is_file():
        raise RefusedFile(f"{path}: no such file", path)
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path}: the file is empty; expected an AJO dataset export", path)
    file_format = file_format_of(path)
    structure, columns = sample_structure(con, path, file_format)
    root, record_structure = record_root(structure)
    dataset = identify(record_structure, table, path)
    batch = f"ajo_batch_{index}"
    select = reader_sql(path, file_format, dataset, structure, root, columns)
    try:
        con.execute(f"create or replace temp table {batch} as {select}")
    except duckdb.Error as error:
        message = first_line(error)
        if "Expected OBJECT" in message:
            message = "a line is not a JSON object: " + message
        raise RefusedFile(f"{path}: cannot be read as an {dataset.title} export: {message}", path) from error
    records = con.execute(f"select count(*) from {batch}").fetchone()[0]
    tables = list(dataset.tables) if table == AUTO else [table]
    return StagedFile(path, flat.file_sha256(path), file_format, dataset, tables, batch, int(records),
                      unknown_fields(record_structure, dataset.schema))


# ---------------------------------------------------------------------------- mapping


def first_present(*expressions: str) -> str:
    """The first value that is not missing (null or blank), as received; when all are
    missing, the first one as received (so a blank reaches staging, which rejects it)."""
    cases = " ".join(f"when nullif(trim({e}), '') is not null then {e}" for e in expressions)
    return f"case {cases} else {expressions[0]} end"


def utc_text(expression: str) -> str:
    """ISO-8601 text (any offset, `T` or space) or a Parquet timestamp's text -> UTC
    'YYYY-MM-DD HH:MM:SS.ffffff'; anything else as received, for staging to reject."""
    return (
        f"case when regexp_full_match(trim({expression}), '{ISO_TIMESTAMP}') "
        f"then coalesce(strftime(try_cast(trim({expression}) as timestamptz), '{TS_TEXT}'), {expression}) "
        f"else {expression} end"
    )


def epoch_ms_text(expression: str) -> str:
    """`_acp_system_metadata.ingestTime`: epoch milliseconds -> UTC text; other text as for utc_text."""
    return (
        f"case when regexp_full_match(trim({expression}), '[0-9]{{10,16}}') "
        f"then strftime(make_timestamp(cast(trim({expression}) as bigint) * 1000), '{TS_TEXT}') "
        f"else {utc_text(expression)} end"
    )


def lookup(expression: str, mapping: dict[str, str], default: str) -> str:
    whens = " ".join(f"when {quote_literal(key.lower())} then {quote_literal(value)}" for key, value in mapping.items())
    return f"case lower(trim({expression})) {whens} else {default} end"


CHANNELS = {
    "email": "email", "sms": "sms", "push": "push", "inapp": "inapp", "in-app": "inapp", "web": "web",
    "direct-mail": "direct_mail", "directmail": "direct_mail", "direct_mail": "direct_mail",
}
STATUSES = {
    "sent": "sent", "delivered": "delivered", "bounce": "bounce", "error": "error", "exclude": "excluded",
    "duplicate": "excluded", "denylist": "excluded", "delay": "retry",
}
PLATFORMS = {"apns": "ios", "apnssandbox": "ios", "fcm": "android", "web": "web"}
OPERATING_SYSTEMS = {"ios": "ios", "ipados": "ios", "android": "android"}
EXCLUSION_REASONS = {
    **dict.fromkeys(["EmailNoConsent", "PushNoConsent", "SMSNoConsent"], "consent_missing"),
    **dict.fromkeys(["Suppressed", "EmailSuppressed", "DomainSuppressed"], "suppressed"),
    **dict.fromkeys(["NotAllowed", "EmailNotAllowed", "DomainNotAllowed"], "not_allowed"),
    **dict.fromkeys(
        ["EmailNoAddressFoundInProfile", "SMSNoToNumberDefinedInProfile", "PushNoTokenFoundInProfile",
         "PushNoValidTokenFoundForApps", "EmailNoSubscriberIdFoundInProfile"], "missing_address"),
    **dict.fromkeys(["EmailMalformedAddress", "PushMalformedProfile", "personalizedDomainNotValid"], "invalid_address"),
    "ExcludedForControlRules": "frequency_capped",
    "ExperimentationHoldoutExclusion": "holdout",
    **dict.fromkeys(
        ["DirectMailNoVariantDefined", "DirectMailNoMessageFoundForTreatment", "EmailNoAddressDefinedInPreset",
         "EmailNoVariantDefined", "EmailNoMessageFoundForTreatment", "UnsubscribeLinkNotValid",
         "AttachmentResolutionFailed", "InAppNoVariantDefined", "InAppNoMessageFoundForTreatment",
         "PushNoApplicationDefinedInPreset", "PushNoVariantDefined", "PushNoMessageFoundForTreatment",
         "SMSFromNumberNotDefinedInPreset", "SMSNoVariantDefined", "SMSNoMessageFoundForTreatment",
         "WebNoVariantDefined", "WebNoMessageFoundForTreatment", "NamespaceErrorForExperimentation"],
        "configuration_error"),
    **dict.fromkeys(["RuntimeDispatchError", "RuntimeRenderingError"], "technical_error"),
}
EXCLUSION_CODES = {
    "050301": "technical_error", "050302": "technical_error", "050017": "configuration_error", "050018": "holdout",
    "050002": "frequency_capped", "050062": "configuration_error", "050061": "configuration_error",
    "050101": "consent_missing", "050107": "suppressed", "050102": "suppressed", "050105": "suppressed",
    "050108": "not_allowed", "050103": "not_allowed", "050106": "not_allowed", "050025": "missing_address",
    "050020": "missing_address", "050021": "configuration_error", "050026": "configuration_error",
    "050027": "configuration_error", "050024": "invalid_address", "050081": "configuration_error",
    "050083": "configuration_error", "050041": "configuration_error", "050042": "configuration_error",
    "050030": "missing_address", "050031": "missing_address", "050034": "invalid_address",
    "050111": "consent_missing", "050033": "configuration_error", "050035": "configuration_error",
    "050036": "configuration_error", "050104": "consent_missing", "050152": "configuration_error",
    "050153": "missing_address", "050154": "configuration_error", "050155": "configuration_error",
    "050109": "invalid_address",
}
# Bounce texts (vocabulary unconfirmed): matched case-insensitively on substrings, in order.
FAILURE_PATTERNS = (
    ("invalid recipient", "user_unknown"),
    ("dns failure", "invalid_domain"),
    ("box (is )?full", "mailbox_full"),
    ("relaying denied", "refused"),
    ("challenge.?response", "refused"),
    ("spam complaint", "refused"),
    ("soft bounce", "unreachable"),
)


def failure_reason(expression: str) -> str:
    whens = " ".join(
        f"when regexp_matches(lower({expression}), {quote_literal(pattern)}) then {quote_literal(code)}"
        for pattern, code in FAILURE_PATTERNS
    )
    return f"case when nullif(trim({expression}), '') is null then null {whens} else {expression} end"


def exclusion_reason(name: str, code: str) -> str:
    by_name = lookup(name, EXCLUSION_REASONS, f"nullif(trim({name}), '')")
    digits = f"regexp_extract({code}, '(0[0-9]{{5}})', 1)"
    by_code = lookup(digits, EXCLUSION_CODES, f"nullif(trim({code}), '')")
    return f"coalesce({by_name}, {by_code})"


def pii_salt() -> str:
    return os.environ.get(PII_SALT_ENV, PII_SALT_DEFAULT)


def hash_text(expression: str) -> str:
    """staging's hash_pii: sha256(salt || lower(trim(value)))."""
    return f"case when {expression} is not null then sha256({quote_literal(pii_salt())} || lower(trim({expression}))) end"


def is_address(namespace: str, identifier: str) -> str:
    namespaces = ", ".join(quote_literal(n) for n in (*EMAIL_NAMESPACES, *PHONE_NAMESPACES))
    return (
        f"(lower(trim({namespace})) in ({namespaces}) or regexp_matches({identifier}, '{EMAIL_SHAPE}') "
        f"or regexp_full_match(trim({identifier}), '{PHONE_SHAPE}'))"
    )


def identities(record: str) -> str:
    """identityMap as a list of {rank, namespace, id}: sorted, the primary identity first,
    then address-free namespaces, then by namespace and id (a deterministic choice)."""
    return (
        f"list_sort(flatten(list_transform(map_entries({record}.identityMap), lambda e: list_transform(e.value, lambda i: {{"
        f"'not_primary': coalesce(lower(trim(i.primary)) <> 'true', true), "
        f"'is_address': {is_address('e.key', 'i.id')}, "
        f"'namespace': lower(trim(e.key)), 'id': i.id}}))))"
    )


def event_fields(dataset: Dataset) -> str:
    """Columns every event table needs, from the canonical record `r` of the batch."""
    execution = "r._experience.customerJourneyManagement.messageExecution"
    profile = "r._experience.customerJourneyManagement.messageProfile"
    channel_uri = f"{profile}.channel._id"
    uri_token = f"regexp_extract({channel_uri}, '([^/#]*)/*$', 1)"
    channel_type = "r._experience.decisioning.channelType"
    default_channel = quote_literal(dataset.default_channel) if dataset.default_channel else "null"
    mapped_uri = lookup(uri_token, CHANNELS, uri_token)
    mapped_type = lookup(channel_type, CHANNELS, channel_type)
    return f"""
        r._id as event_id,
        {utc_text('r.timestamp')} as event_ts,
        {epoch_ms_text('r._acp_system_metadata.ingestTime')} as ingested_at,
        {first_present(f'{execution}.campaignID', f'{execution}.ajoCampaignID', f'{execution}.journeyVersionID',
                       f'{execution}.parentSourceMeta.sourceID')} as campaign_id,
        case when nullif(trim({execution}.batchInstanceID), '') is null then {execution}.messageExecutionID
             else {execution}.messageExecutionID || ':' || {execution}.batchInstanceID end as execution_id,
        {profile}.messageProfileID as message_profile_id,
        {execution}.messageExecutionID as message_execution_id,
        {execution}.batchInstanceID as batch_instance_id,
        {execution}.journeyVersionInstanceID as journey_instance_id,
        case when nullif(trim({channel_uri}), '') is not null then {mapped_uri}
             when nullif(trim({channel_type}), '') is not null then {mapped_type}
             else {default_channel} end as channel,
        {identities('r')} as identities,
        coalesce(lower(trim({profile}.isTestExecution)) = 'true', false) as is_test_send
    """


def identity_columns() -> str:
    """Second step: the chosen identity and the phone identity."""
    phones = ", ".join(quote_literal(n) for n in PHONE_NAMESPACES)
    return f"""
        *,
        identities[1] as chosen_identity,
        list_filter(identities, lambda i: i.namespace in ({phones}))[1].id as phone_identity
    """


def event_columns() -> str:
    """Third step: profile_id and message_id."""
    profile_id = (
        "case when (chosen_identity).is_address then 'sha256:' || " + hash_text("(chosen_identity).id")
        + " else (chosen_identity).id end"
    )
    synthetic = (
        "'synthetic:' || md5(concat_ws('|', message_execution_id, batch_instance_id, journey_instance_id, "
        f"{profile_id}, channel))"
    )
    return f"""
        *,
        {profile_id} as profile_id,
        case when message_profile_id is null then {synthetic} else message_profile_id end as message_id
    """


def platform(expressions: list[tuple[str, dict[str, str]]]) -> str:
    cases = " ".join(
        f"when nullif(trim({e}), '') is not null then {lookup(e, mapping, e)}" for e, mapping in expressions
    )
    return f"case {cases} end"


def mapping_sql(dataset: Dataset, table: str, batch: str) -> str:
    """One select from the batch's canonical records giving the contract columns of `table`."""
    columns = [name for name, _ in flat.CONTRACT[table]]
    cjm = "r._experience.customerJourneyManagement"
    status = f"{cjm}.messageDeliveryfeedback.feedbackStatus"
    failure = f"{cjm}.messageDeliveryfeedback.messageFailure"
    exclusion = f"{cjm}.messageDeliveryfeedback.messageExclusion"
    push_platform = (f"{cjm}.pushChannelContext.platform", PLATFORMS)
    provider = ("r.pushNotificationTracking.pushProvider", PLATFORMS)
    operating_system = ("r.environment.operatingSystem", OPERATING_SYSTEMS)
    if table == "campaigns":
        return campaigns_sql(batch)
    base = (
        f"with fields as (select r, {event_fields(dataset)} from {batch}), "
        f"identified as (select {identity_columns()} from fields), "
        f"events as (select {event_columns()} from identified)"
    )
    if table == "message_feedback_events":
        excluded = exclusion_reason(f"{exclusion}.reason", f"{exclusion}.code")
        failed = failure_reason(f"{failure}.reason")
        failure_code = f"nullif(trim({failure}.code), '')"
        select = {
            "status": lookup(status, STATUSES, status),
            "failure_type": f"{failure}.type",
            "reason": f"""case lower(trim({status}))
                when 'duplicate' then 'duplicate'
                when 'denylist' then 'denylisted'
                when 'exclude' then coalesce({excluded}, {failed}, {failure_code})
                else coalesce({failed}, {failure_code}, {excluded}) end""",
            "recipient_address": f"""case when channel = 'email' then {cjm}.emailChannelContext.address
                when channel = 'sms' then phone_identity end""",
            "platform": platform([push_platform, operating_system]),
        }
        return f"{base} select {select_list(columns, select)} from events where not is_test_send"
    if table == "offer_propositions":
        items = "flatten(list_transform(r._experience.decisioning.propositions, lambda p: list_transform(p.items, lambda i: i.id)))"
        single = f"{cjm}.messageDeliveryfeedback.offers.offerID"
        offers = f"case when len(coalesce({items}, [])) > 0 then {items} when {single} is not null then [{single}] end"
        return f"""{base}, placed as (
                select *, unnest({offers}) as offer_id, generate_subscripts({offers}, 1) as offer_number
                from events
                where not is_test_send and lower(trim({status})) = 'sent'
            )
            select {select_list(columns, {'event_id': "event_id || '#offer-' || offer_number", 'offer_id': 'offer_id'})}
            from placed"""
    interaction = f"{cjm}.messageInteraction"
    if dataset.key == "push_tracking":
        kind = lookup("r.eventType", {"pushTracking.applicationOpened": "open", "pushTracking.customAction": "action"},
                      "r.eventType")
    else:
        kind = (f"case when lower(trim({interaction}.isBot)) = 'true' and lower(trim({interaction}.interactionType)) "
                f"in ('open', 'click') then 'bot_' || lower(trim({interaction}.interactionType)) "
                f"else {interaction}.interactionType end")
    select = {
        "interaction": kind,
        "url": f"{interaction}.url",
        "element_id": "r.pushNotificationTracking.customAction.actionID",
        "offer_id": f"{interaction}.offers.offerID",
        "platform": platform([push_platform, provider, operating_system]),
        "user_agent": f"coalesce({interaction}.environment.browserDetails.userAgent, r.environment.browserDetails.userAgent)",
    }
    return f"{base} select {select_list(columns, select)} from events where not is_test_send"


def select_list(columns: list[str], overrides: dict[str, str]) -> str:
    return ", ".join(f"{overrides.get(name, name)} as {quote_ident(name)}" for name in columns)


def campaigns_sql(batch: str) -> str:
    """One row per campaign (or journey version) of the file: the Entity dataset has two
    records per publication and one per message; the newest name wins, created_at is the
    first publication seen."""
    entities = "r._experience.customerJourneyManagement.entities"
    campaign_id = first_present(f"{entities}.campaign.campaignID", f"{entities}.journey.journeyVersionID",
                                f"{entities}.orchestratedCampaign.campaignID")
    name = first_present(f"{entities}.campaign.name", f"{entities}.journey.journeyNameAndVersion",
                         f"{entities}.journey.journeyName", f"{entities}.orchestratedCampaign.name")
    published = utc_text(f"{entities}.channelDetails.messagePublishedAt")
    modified = utc_text(f"{entities}.timestamp.lastModifiedAt")
    return f"""
        with entities as (
            select
                {campaign_id} as campaign_id,
                {name} as campaign_name,
                case when nullif(trim({entities}.journey.journeyVersionID), '') is not null
                       or nullif(trim({entities}.journey.journeyID), '') is not null then 'journey' end as campaign_type,
                {published} as published_at,
                coalesce({modified}, {published}) as modified_at
            from {batch}
        )
        select
            campaign_id,
            arg_max(campaign_name, coalesce(modified_at, '')) as campaign_name,
            max(campaign_type) as campaign_type,
            min(published_at) as created_at,
            null as ingested_at
        from entities
        group by campaign_id
    """


REDACTED_PATHS = (*PII_LEAVES, ("identityMap",))


def redacted(expression: str, schema: Node, path: tuple[str, ...] = ()) -> str:
    """The record with every address (and IP) hashed like staging hashes addresses: the PII
    leaves, and identityMap ids in address namespaces or shaped like an email or a phone."""
    if path == ("identityMap",):
        return (
            f"map_from_entries(list_transform(map_entries({expression}), lambda e: {{'key': e.key, 'value': "
            f"list_transform(e.value, lambda i: struct_update(i, id := case when {is_address('e.key', 'i.id')} "
            f"then {hash_text('i.id')} else i.id end))}}))"
        )
    if path in PII_LEAVES:
        return hash_text(expression)
    if not isinstance(schema, dict):
        return expression
    updates = [
        f"{quote_ident(name)} := {redacted(f'{expression}.{quote_ident(name)}', child, path + (name,))}"
        for name, child in schema.items()
        if any(leaf[: len(path) + 1] == path + (name,) for leaf in REDACTED_PATHS)
    ]
    if not updates:
        return expression
    return f"case when {expression} is null then null else struct_update({expression}, {', '.join(updates)}) end"


# ---------------------------------------------------------------------------- loading


def ensure_ajo_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, schema in (("ajo_event_records", EVENT_SCHEMA), ("ajo_entity_records", ENTITY_SCHEMA)):
        con.execute(
            f"create table if not exists {flat.RAW_SCHEMA}.{table} (_load_id varchar, _source_file varchar, "
            f"_file_sha256 varchar, _loaded_at timestamp, dataset varchar, event_id varchar, record {canonical_type(schema)})"
        )
    con.execute(
        f"create table if not exists {flat.RAW_SCHEMA}._ajo_file_audit (load_id varchar, source_file varchar, "
        "file_sha256 varchar, dataset varchar, file_format varchar, records bigint, test_sends_withheld bigint, "
        "ignored_fields varchar, loaded_at timestamp)"
    )


def stage_files(con: duckdb.DuckDBPyConnection, table: str, files: list[Path]) -> list[StagedFile]:
    return [stage_file(con, table, path.resolve(), index) for index, path in enumerate(files)]


def attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    version = settings.WAREHOUSE_CONFIG["storage_compatibility_version"]
    con.execute(f"attach {quote_literal(str(warehouse))} as warehouse (storage_version {quote_literal(version)})")
    con.execute("use warehouse")


def load_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """The load time, strictly after every earlier load (as load_events.load_prepared)."""
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    latest = con.execute(f"select max(loaded_at) from {flat.AUDIT_TABLE}").fetchone()
    if latest and latest[0] is not None and latest[0] >= loaded_at:
        loaded_at = latest[0] + timedelta(microseconds=1)
    return loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f")


def land_file(con: duckdb.DuckDBPyConnection, item: StagedFile, load_id: str, loaded_at: str, quiet: bool) -> int:
    """Appends one staged file's rows to each of its tables and keeps its records once."""
    total = 0
    for table in item.tables:
        seen = con.execute(
            f"select count(*) from {flat.AUDIT_TABLE} where table_name = ? and file_sha256 = ?", [table, item.sha256]
        ).fetchone()[0]
        if seen:
            print(f"{item.path}: already loaded into {table} (same content), skipped")
            continue
        started = time.perf_counter()
        rows = flat.append_rows(con, table, mapping_sql(item.dataset, table, item.batch), load_id, str(item.path), loaded_at)
        con.execute(
            f"insert into {flat.AUDIT_TABLE} values (?, ?, ?, ?, ?, cast(? as timestamp))",
            [load_id, table, str(item.path), item.sha256, rows, loaded_at],
        )
        total += rows
        if not quiet:
            print(f"{item.path} ({item.dataset.title}) -> {table}: {rows:,} rows in {time.perf_counter() - started:.2f} s")
    kept = con.execute(f"select count(*) from {flat.RAW_SCHEMA}._ajo_file_audit where file_sha256 = ?", [item.sha256]).fetchone()[0]
    if not kept:
        record = redacted("r", item.dataset.schema)
        con.execute(
            f"insert into {flat.RAW_SCHEMA}.{item.dataset.records_table} "
            f"select ?, ?, ?, cast(? as timestamp), ?, r._id, {record} from {item.batch}",
            [load_id, str(item.path), item.sha256, loaded_at, item.dataset.key],
        )
        withheld = 0
        if item.dataset.schema is EVENT_SCHEMA:
            withheld = con.execute(
                f"select count(*) from {item.batch} where lower(trim(r._experience.customerJourneyManagement."
                "messageProfile.isTestExecution)) = 'true'"
            ).fetchone()[0]
        con.execute(
            f"insert into {flat.RAW_SCHEMA}._ajo_file_audit values (?, ?, ?, ?, ?, ?, ?, ?, cast(? as timestamp))",
            [load_id, str(item.path), item.sha256, item.dataset.key, item.file_format, item.records, withheld,
             ", ".join(item.ignored_fields), loaded_at],
        )
        if withheld and not quiet:
            print(f"{item.path}: {withheld:,} test sends withheld (kept in raw.{item.dataset.records_table})")
    return total


def load(warehouse: Path, table: str, files: list[Path], quiet: bool) -> int:
    """Reads and checks every file in memory, then lands them all in one transaction."""
    con = duckdb.connect(config={"preserve_insertion_order": False})
    try:
        con.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        staged = stage_files(con, table, files)
        if not quiet:
            for item in staged:
                extra = f"; fields not kept: {', '.join(item.ignored_fields[:8])}" if item.ignored_fields else ""
                print(f"{item.path}: {item.dataset.title}, {item.records:,} records read{extra}")
            print(f"read {len(staged)} file(s) in {time.perf_counter() - started:.2f} s")
        attach_warehouse(con, warehouse)
        flat.ensure_tables(con)
        ensure_ajo_tables(con)
        load_id = uuid.uuid4().hex
        loaded_at = load_stamp(con)
        total = 0
        con.execute("begin transaction")
        try:
            for item in staged:
                total += land_file(con, item, load_id, loaded_at, quiet)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        print(f"loaded {total:,} rows from {len(staged)} AJO export file(s) (load {load_id})")
        return 0
    finally:
        con.close()
