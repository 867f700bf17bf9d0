"""The `ajo` layout of `tally load`: the platform's own exports, read as it writes them.

Adobe Journey Optimizer (AJO) records every send and every interaction in system datasets
with nested XDM records (../shared/ajo-datasets.md). This module reads dataset exports of
the Message Feedback, Email Tracking and Push Tracking datasets (newline-delimited JSON,
gzipped or not, and nested Parquet) and of the Entity dataset, and lands them in the same
raw tables as the flat contract, with the same promises: one transaction per invocation, a
file already loaded into a table is skipped, a file that is not such an export is refused
whole (the file and the first missing field path named; exit 2), every value lands as
text for staging to judge. The mapping is decided in docs/decisions.md ("AJO layout").

How a file is read:
1. Its structure (JSON: the keys of its first 20,000 records; Parquet: its schema) tells
   the dataset, by required field paths, matched case-insensitively (the platform's own
   queries spell both `messagedeliveryfeedback` and `messageDeliveryfeedback`).
2. Every field path the mapping reads (the dataset's schema below) is resolved against
   that structure: present, it is read (as text); absent, it is null. Other fields are
   ignored and named in `raw._ajo_file_audit`.
3. A JSON file is parsed once, in memory, with an explicit schema in the file's own key
   case, before the warehouse is opened: a truncated gzip or a line that is not an object
   refuses the file with nothing loaded. A Parquet file is read where it is, each
   statement reading only the nested columns it needs.
4. One `insert ... select` per target table flattens the records into the contract's
   columns, and one more keeps the fields the mapping reads, addresses hashed, in
   `raw.ajo_event_records` / `raw.ajo_entity_records` for mapping questions. No Python
   loop touches a row.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import duckdb

from tally import contract, settings
from tally.common import first_line, quote_ident, quote_literal
from tally.contract import RAW_SCHEMA
from tally.load import RefusedFile, flat

TEXT = "VARCHAR"
NULL_TEXT = "cast(null as varchar)"
SAMPLE_RECORDS = 20000
AUTO = "auto"
# Same salt and rule as staging's hash_pii macro (macros/hash_pii.sql), so the hashes kept
# here join staging's recipient_address_hash.
PII_SALT_ENV = "PII_HASH_SALT"
PII_SALT_DEFAULT = "messaging-warehouse-local-salt"
# Identity namespaces whose ids are addresses (matched lower-case).
EMAIL_NAMESPACES = ("email", "emailaddress")
PHONE_NAMESPACES = ("phone", "phone_e.164", "phonenumber", "mobile")
ADDRESS_NAMESPACES = (*EMAIL_NAMESPACES, *PHONE_NAMESPACES)
E164_SHAPE = r"\+[0-9][0-9 .()-]{6,18}[0-9]"
TS_TEXT = "%Y-%m-%d %H:%M:%S.%f"
# What staging parses itself (macros/parse_utc_timestamp.sql): kept exactly as received.
STAGING_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z?"
# ISO-8601 with an offset (or more than 6 decimals): converted to UTC text.
ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?"
JSON_SUFFIXES = (".json", ".json.gz", ".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True)
class ListOf:
    """An array of `item` in a schema."""

    item: "Node"


Node = Union[str, dict, ListOf]
IDENTITY_MAP = "identityMap"  # a map<namespace, array<{id, primary, authenticatedState}>>, resolved specially
IDENTITY_ENTRY = ("id", "primary", "authenticatedState")
IDENTITY_MAP_TYPE = 'MAP(VARCHAR, STRUCT("id" VARCHAR, "primary" VARCHAR, "authenticatedState" VARCHAR)[])'


def texts(*names: str) -> dict[str, Node]:
    return {name: TEXT for name in names}


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
        **texts("messageExecutionID", "batchInstanceID", "messageID", "campaignID", "ajoCampaignID",
                "journeyVersionID", "journeyVersionInstanceID"),
        "parentSourceMeta": texts("sourceID"),
    },
    "messageProfile": {**texts("messageProfileID", "isTestExecution"), "channel": texts("_id")},
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
                "channelDetails": {**texts("messageID", "messagePublishedAt"), "channel": texts("_id")},
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
        "message_feedback", "AJO Message Feedback Event Dataset",
        ("_id", "timestamp", f"{CJM}.messageExecution.messageExecutionID", f"{CJM}.messageDeliveryfeedback.feedbackStatus"),
        ("message_feedback_events", "offer_propositions"), FEEDBACK_SCHEMA, "ajo_message_feedback_records",
    ),
    Dataset(
        "email_tracking", "AJO Email Tracking Experience Event Dataset",
        ("_id", "timestamp", f"{CJM}.messageExecution.messageExecutionID", f"{CJM}.messageInteraction.interactionType"),
        ("message_tracking_events",), EMAIL_TRACKING_SCHEMA, "ajo_email_tracking_records", "email",
    ),
    Dataset(
        "push_tracking", "AJO Push Tracking Experience Event Dataset",
        ("_id", "timestamp", "eventType", f"{CJM}.messageExecution.messageExecutionID", "pushNotificationTracking"),
        ("message_tracking_events",), PUSH_TRACKING_SCHEMA, "ajo_push_tracking_records", "push",
    ),
    Dataset(
        "entity", "AJO Entity Dataset", ("_id", f"{CJM}.entities"), ("campaigns",), ENTITY_SCHEMA, "ajo_entity_records",
    ),
)
BCC_PATH = f"{CJM}.secondaryRecipientDetail"


def sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(quote_literal(v) for v in values)


# ---------------------------------------------------------------------------- structure


def structure_of_type(column_type: duckdb.typing.DuckDBPyType) -> object:
    """A DuckDB type as the nested dict/list/str shape json_group_structure returns (a MAP
    is the string "MAP:<value structure as JSON>")."""
    if column_type.id == "struct":
        return {name: structure_of_type(child) for name, child in column_type.children}
    if column_type.id == "list":
        return [structure_of_type(column_type.child)]
    if column_type.id == "map":
        return {"__map__": structure_of_type(column_type.value)}
    return str(column_type)


def match_key(structure: object, name: str) -> list[str]:
    if not isinstance(structure, dict):
        return []
    return [key for key in structure if key.lower() == name.lower() and key != "__map__"]


def item_of(structure: object) -> object:
    while isinstance(structure, list) and structure:
        structure = structure[0]
    return structure


def find(structure: object, dotted: str) -> list[str] | None:
    """The file's own spelling of a dotted field path, or None when it is absent."""
    node, actual = structure, []
    for name in dotted.split("."):
        node = item_of(node)
        keys = match_key(node, name)
        if not keys:
            return None
        actual.append(keys[0])
        node = node[keys[0]]
    return actual


def unknown_fields(structure: object, schema: Node, prefix: str = "") -> list[str]:
    """Field paths present in the file that the schema does not read."""
    structure = item_of(structure)
    if isinstance(schema, ListOf):
        return unknown_fields(structure, schema.item, prefix)
    if not isinstance(schema, dict) or not isinstance(structure, dict):
        return []
    found = []
    known = {name.lower(): child for name, child in schema.items()}
    for key, child in structure.items():
        if key.lower() not in known:
            found.append(f"{prefix}{key}")
        else:
            found.extend(unknown_fields(child, known[key.lower()], f"{prefix}{key}."))
    return found


def json_type_sql(schema: Node, structure: object, path: str, source: Path) -> str:
    """The schema as a DuckDB type in the file's own key case (read_json matches keys
    case-sensitively): what `read_json(columns = ...)` parses, and nothing else."""
    structure = item_of(structure)
    if schema == IDENTITY_MAP:
        return IDENTITY_MAP_TYPE
    if isinstance(schema, str):
        return schema
    if isinstance(schema, ListOf):
        return json_type_sql(schema.item, structure, path, source) + "[]"
    parts = []
    for name, child in schema.items():
        keys = match_key(structure, name)
        if len(keys) > 1:
            raise RefusedFile(
                f"{source}: keys {', '.join(repr(path + k) for k in keys)} differ only by case; "
                "an export spells each field path one way", source
            )
        actual = keys[0] if keys else name
        child_structure = structure[actual] if keys else None
        parts.append(f"{quote_ident(actual)} {json_type_sql(child, child_structure, f'{path}{actual}.', source)}")
    return f"STRUCT({', '.join(parts)})"


class Resolver:
    """SQL expressions for the schema's field paths in one file: the file's own spelling
    when the path is present (as text), null when it is absent."""

    def __init__(self, structure: dict, root: list[str]) -> None:
        self.root = root
        node: object = structure
        for name in root:
            node = node[name]
        self.structure = node

    def expression(self, actual: list[str]) -> str:
        return ".".join(quote_ident(name) for name in [*self.root, *actual])

    def text(self, dotted: str) -> str:
        actual = find(self.structure, dotted)
        if actual is None:
            return NULL_TEXT
        return f"cast({self.expression(actual)} as varchar)"

    def has(self, dotted: str) -> bool:
        return find(self.structure, dotted) is not None

    def identity_map(self) -> tuple[str, dict[str, str]] | None:
        """identityMap's expression and, per entry field, its text expression on lambda
        variable `i`; None when the file has no identityMap."""
        actual = find(self.structure, "identityMap")
        if actual is None:
            return None
        node: object = self.structure
        for name in actual:
            node = item_of(node)[name]
        entry = item_of(node.get("__map__")) if isinstance(node, dict) else None
        fields = {}
        for name in IDENTITY_ENTRY:
            keys = match_key(entry, name)
            fields[name] = f"cast(i.{quote_ident(keys[0])} as varchar)" if keys else NULL_TEXT
        return self.expression(actual), fields

    def identity_entries(self) -> str | None:
        """identityMap as a list of {namespace, id, primary, authenticatedState} (text), one
        per identity, or None when the file has no identityMap."""
        resolved = self.identity_map()
        if resolved is None:
            return None
        expression, fields = resolved
        values = ", ".join(f"{quote_literal(name)}: {value}" for name, value in fields.items())
        return (
            f"flatten(list_transform(map_entries({expression}), lambda e: list_transform(e.value, "
            f"lambda i: {{'namespace': e.key, {values}}})))"
        )

    def propositions(self) -> tuple[str, str, str] | None:
        """(propositions expression, items field, item id field) when the file has item ids."""
        propositions = find(self.structure, PROPOSITION_ITEMS)
        if propositions is None or find(self.structure, f"{PROPOSITION_ITEMS}.items.id") is None:
            return None
        node: object = self.structure
        for name in propositions:
            node = item_of(node)[name]
        items = match_key(item_of(node), "items")[0]
        item_id = match_key(item_of(item_of(node)[items]), "id")[0]
        return self.expression(propositions), quote_ident(items), quote_ident(item_id)

    def proposition_items(self) -> str:
        """The ids of `_experience.decisioning.propositions[].items[]`, flattened, or null."""
        resolved = self.propositions()
        if resolved is None:
            return "cast(null as varchar[])"
        propositions, items, item_id = resolved
        return (
            f"flatten(list_transform({propositions}, lambda p: list_transform(p.{items}, "
            f"lambda i: cast(i.{item_id} as varchar))))"
        )


# ---------------------------------------------------------------------------- files


@dataclass
class StagedFile:
    """A file identified and checked, ready to land: `source` is what its statements read
    (a temp table of the parsed JSON, or the Parquet file itself)."""

    path: Path
    sha256: str
    file_format: str
    dataset: Dataset
    tables: list[str]
    source: str
    resolver: Resolver
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


def sample_structure(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> dict:
    """The file's field structure (JSON: of its first records; Parquet: its schema)."""
    literal = quote_literal(str(path))
    try:
        if file_format == "parquet":
            relation = con.sql(f"select * from read_parquet({literal})")
            return {name: structure_of_type(column_type) for name, column_type in zip(relation.columns, relation.types)}
        row = con.execute(
            f"select json_group_structure(json) from (select json from read_ndjson_objects({literal}) limit {SAMPLE_RECORDS})"
        ).fetchone()
    except duckdb.Error as error:
        raise RefusedFile(f"{path}: cannot be read as {file_format}: {first_line(error)}", path) from error
    structure = json.loads(row[0]) if row and row[0] else None
    if structure is None:
        raise RefusedFile(f"{path}: the file holds no record; expected one JSON object per line", path)
    if not isinstance(structure, dict):
        line, kind = con.execute(
            f"select line, kind from (select row_number() over () as line, json_type(json) as kind "
            f"from (select json from read_ndjson_objects({literal}) limit {SAMPLE_RECORDS})) "
            "where kind <> 'OBJECT' order by line limit 1"
        ).fetchone() or (None, None)
        where = f"record {line} is a JSON {kind}, not an object" if line else "its records are not JSON objects"
        raise RefusedFile(f"{path}: {where}; an AJO JSON export holds one XDM record (object) per line", path)
    return structure


def record_root(structure: dict) -> list[str]:
    """Where the XDM record is: the top level, or `body.xdmEntity` of a streaming envelope."""
    if match_key(structure, "_id") or not match_key(structure, "body"):
        return []
    body = match_key(structure, "body")[0]
    entity = match_key(structure[body], "xdmEntity")
    return [body, entity[0]] if entity else []


def identify(structure: object, table: str, path: Path) -> Dataset:
    """The dataset whose required field paths the file has; refuses naming the first one
    missing (or the dataset it is, when that dataset does not feed `table`)."""
    complete = [d for d in DATASETS if all(find(structure, p) for p in d.required)]
    if complete:
        dataset = complete[0]
        if dataset.key == "message_feedback" and find(structure, BCC_PATH):
            raise RefusedFile(
                f"{path}: an AJO Secondary Recipient (BCC) Feedback export (field path '{BCC_PATH}'): copies kept for "
                "archiving, not loaded (they would count every send twice)", path
            )
        if table != AUTO and table not in dataset.tables:
            raise RefusedFile(
                f"{path}: an {dataset.title} export, which feeds {' and '.join(dataset.tables)}, not {table}", path
            )
        return dataset
    candidates = [d for d in DATASETS if table == AUTO or table in d.tables]

    def missing(dataset: Dataset) -> list[str]:
        return [p for p in dataset.required if not find(structure, p)]

    closest = min(candidates, key=lambda d: len(missing(d)))
    others = [d.title for d in candidates if d is not closest]
    also = f" (nor an export of {', '.join(others)})" if others else ""
    raise RefusedFile(f"{path}: not an {closest.title} export: missing field path '{missing(closest)[0]}'{also}", path)


def parse_json(con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset, structure: dict, root: list[str],
               table_name: str) -> dict:
    """Parses the whole JSON file into a temp table holding only the schema's field paths;
    returns the temp table's structure."""
    if root:
        inner = structure[root[0]][root[1]]
        spec = {root[0]: f"STRUCT({quote_ident(root[1])} {json_type_sql(dataset.schema, inner, '.'.join(root) + '.', path)})"}
    else:
        spec = {}
        for name, child in dataset.schema.items():
            keys = match_key(structure, name)
            actual = keys[0] if keys else name
            spec[actual] = json_type_sql(child, structure.get(actual), f"{actual}.", path)
    columns = "{" + ", ".join(f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in spec.items()) + "}"
    try:
        con.execute(
            f"create or replace temp table {table_name} as select * from read_json({quote_literal(str(path))}, "
            f"format = 'newline_delimited', records = 'true', columns = {columns})"
        )
    except duckdb.Error as error:
        message = first_line(error)
        if "Expected OBJECT" in message:
            message = "a line is not a JSON object: " + message
        raise RefusedFile(f"{path}: cannot be read as an {dataset.title} export: {message}", path) from error
    relation = con.table(table_name)
    return {name: structure_of_type(kind) for name, kind in zip(relation.columns, relation.types)}


def stage_file(con: duckdb.DuckDBPyConnection, table: str, path: Path, index: int) -> StagedFile:
    """Identifies and checks one file (a JSON file is parsed here, whole); refuses it
    (RefusedFile naming the file) if it is not a readable export of a dataset feeding `table`."""
    if not path.is_file():
        raise RefusedFile(f"{path}: no such file", path)
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path}: the file is empty; expected an AJO dataset export", path)
    file_format = file_format_of(path)
    structure = sample_structure(con, path, file_format)
    root = record_root(structure)
    record_structure = structure
    for name in root:
        record_structure = record_structure[name]
    dataset = identify(record_structure, table, path)
    ignored = unknown_fields(record_structure, dataset.schema)
    if file_format == "json":
        source = f"ajo_file_{index}"
        structure = parse_json(con, path, dataset, structure, root, source)
    else:
        source = f"read_parquet({quote_literal(str(path))})"
    records = con.execute(f"select count(*) from {source}").fetchone()[0]
    tables = list(dataset.tables) if table == AUTO else [table]
    return StagedFile(path, flat.file_sha256(path), file_format, dataset, tables, source, Resolver(structure, root),
                      int(records), ignored)


# ---------------------------------------------------------------------------- mapping


def first_present(*expressions: str) -> str:
    """The first value that is not missing (null or blank), as received; when all are
    missing, the first one as received (so a blank reaches staging, which rejects it)."""
    cases = " ".join(f"when nullif(trim({e}), '') is not null then {e}" for e in expressions)
    return f"case {cases} else {expressions[0]} end"


def utc_text(expression: str) -> str:
    """Text staging parses ('YYYY-MM-DD HH:MM:SS[.ffffff]', `T`, trailing Z) stays as received;
    ISO-8601 with an offset (or a Parquet timestamp with time zone) becomes UTC
    'YYYY-MM-DD HH:MM:SS.ffffff'; anything else stays as received, for staging to reject."""
    return (
        f"case when regexp_full_match({expression}, '{STAGING_TIMESTAMP}') then {expression} "
        f"when regexp_full_match(trim({expression}), '{ISO_TIMESTAMP}') "
        f"then coalesce(strftime(try_cast(trim({expression}) as timestamptz), '{TS_TEXT}'), {expression}) "
        f"else {expression} end"
    )


def epoch_ms_text(expression: str) -> str:
    """`_acp_system_metadata.ingestTime`: epoch milliseconds -> UTC text; other text as utc_text."""
    return (
        f"case when regexp_full_match({expression}, '[0-9]{{10,16}}') "
        f"then strftime(epoch_ms(cast({expression} as bigint)), '{TS_TEXT}') "
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
PUSH_EVENTS = {"pushTracking.applicationOpened": "open", "pushTracking.customAction": "action"}
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
# Six-digit exclusion codes (fact sheet table 2.3); a wrapped form such as CJMRT-050030-422
# is read by its six digits.
EXCLUSION_CODES = {
    **dict.fromkeys(["050301", "050302"], "technical_error"),
    **dict.fromkeys(
        ["050017", "050062", "050061", "050021", "050026", "050027", "050081", "050083", "050041", "050042",
         "050033", "050035", "050036", "050152", "050154", "050155"], "configuration_error"),
    "050018": "holdout",
    "050002": "frequency_capped",
    **dict.fromkeys(["050101", "050111", "050104"], "consent_missing"),
    **dict.fromkeys(["050107", "050102", "050105"], "suppressed"),
    **dict.fromkeys(["050108", "050103", "050106"], "not_allowed"),
    **dict.fromkeys(["050025", "050020", "050030", "050031", "050153"], "missing_address"),
    **dict.fromkeys(["050024", "050034", "050109"], "invalid_address"),
}
# Bounce texts (vocabulary unconfirmed): matched case-insensitively on substrings, in order;
# any other text is kept as received.
FAILURE_PATTERNS = (
    ("invalid recipient", "user_unknown"),
    ("dns failure", "invalid_domain"),
    ("box (is )?full", "mailbox_full"),
    ("relaying denied", "refused"),
    ("challenge.?response", "refused"),
    ("spam complaint", "refused"),
    ("soft bounce", "unreachable"),
)


# With no reason text, the SMTP enhanced status code of `messageFailure.code` (RFC 3463
# class.subject.detail, e.g. 550-5.1.1): subject.detail -> reason; any other code is kept
# as `smtp_<code>`; a code without an enhanced status is kept as received.
SMTP_STATUSES = {"1.1": "user_unknown", "1.2": "invalid_domain", "1.10": "invalid_domain", "2.1": "account_disabled",
                 "2.2": "mailbox_full"}
SMTP_SUBJECTS = {"4": "unreachable", "7": "refused"}  # network and routing; security and policy


def failure_code_reason(expression: str) -> str:
    status = f"regexp_extract({expression}, '[245]\\.([0-9]{{1,3}}\\.[0-9]{{1,3}})', 1)"
    whens = " ".join(f"when {quote_literal(k)} then {quote_literal(v)}" for k, v in SMTP_STATUSES.items())
    return (
        f"case when nullif(trim({expression}), '') is null then null "
        f"when {status} = '' then {expression} "
        + "".join(f"when starts_with({status}, '{subject}.') then '{reason}' " for subject, reason in SMTP_SUBJECTS.items())
        + f"else case {status} {whens} else 'smtp_' || regexp_extract({expression}, '[245]\\.[0-9]{{1,3}}\\.[0-9]{{1,3}}') end end"
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
    """An identity that is an address: an email or phone namespace, or an id holding an `@`
    or written as an E.164 number (`+` and 8 to 15 digits)."""
    return (
        f"(lower(trim({namespace})) in ({sql_list(ADDRESS_NAMESPACES)}) or contains({identifier}, '@') "
        f"or (starts_with(trim({identifier}), '+') and regexp_full_match(trim({identifier}), '{E164_SHAPE}')))"
    )


def platform(expressions: list[tuple[str, dict[str, str]]]) -> str:
    cases = " ".join(f"when nullif(trim({e}), '') is not null then {lookup(e, mapping, e)}" for e, mapping in expressions)
    return f"case {cases} end"


def select_list(columns: list[str], overrides: dict[str, str]) -> str:
    return ", ".join(f"{overrides.get(name, name)} as {quote_ident(name)}" for name in columns)


def event_fields(item: StagedFile) -> str:
    """The columns every event table needs, read from the file."""
    p = item.resolver.text
    execution = f"{CJM}.messageExecution"
    channel_uri = p(f"{CJM}.messageProfile.channel._id")
    uri_token = f"regexp_extract({channel_uri}, '([^/#]*)/*$', 1)"
    channel_type = p("_experience.decisioning.channelType")
    default = quote_literal(item.dataset.default_channel) if item.dataset.default_channel else NULL_TEXT
    entries = item.resolver.identity_entries()
    if entries is None:
        entries = "cast(null as STRUCT(namespace VARCHAR, id VARCHAR, \"primary\" VARCHAR, authenticatedState VARCHAR)[])"
    return f"""
        {p('_id')} as event_id,
        {utc_text(p('timestamp'))} as event_ts,
        {epoch_ms_text(p('_acp_system_metadata.ingestTime'))} as ingested_at,
        {first_present(p(f'{execution}.campaignID'), p(f'{execution}.ajoCampaignID'), p(f'{execution}.journeyVersionID'),
                       p(f'{execution}.parentSourceMeta.sourceID'))} as campaign_id,
        {p(f'{execution}.messageExecutionID')} as message_execution_id,
        {p(f'{execution}.batchInstanceID')} as batch_instance_id,
        {p(f'{execution}.journeyVersionInstanceID')} as journey_instance_id,
        {p(f'{CJM}.messageProfile.messageProfileID')} as message_profile_id,
        case when nullif(trim({channel_uri}), '') is not null then {lookup(uri_token, CHANNELS, uri_token)}
             when nullif(trim({channel_type}), '') is not null then {lookup(channel_type, CHANNELS, channel_type)}
             else {default} end as channel,
        {entries} as identities,
        coalesce(lower(trim({p(f'{CJM}.messageProfile.isTestExecution')})) = 'true', false) as is_test_send
    """


def identity_columns() -> str:
    """The chosen identity: the one flagged primary; with none or several flagged, the first
    after sorting (primary first, then outside the email and phone namespaces, then by
    namespace and id: deterministic). And the phone identity, for SMS."""
    ranked = (
        "list_transform(identities, lambda i: {'not_primary': coalesce(lower(trim(i.primary)) <> 'true', true), "
        f"'in_address_namespace': lower(trim(i.namespace)) in ({sql_list(ADDRESS_NAMESPACES)}), "
        "'namespace': lower(trim(i.namespace)), 'id': i.id})"
    )
    primaries = "list_filter(identities, lambda i: lower(trim(i.primary)) = 'true')"
    return f"""
        * exclude (identities, primaries),
        case when len(primaries) = 1 then {{
                'not_primary': false,
                'in_address_namespace': lower(trim(primaries[1].namespace)) in ({sql_list(ADDRESS_NAMESPACES)}),
                'namespace': lower(trim(primaries[1].namespace)), 'id': primaries[1].id}}
            else list_sort({ranked})[1] end as chosen_identity,
        case when channel = 'sms' then
            list_filter(identities, lambda i: lower(trim(i.namespace)) in ({sql_list(PHONE_NAMESPACES)}))[1].id
        end as phone_identity
    """


def profile_columns() -> str:
    """profile_id: the chosen identity's id, hashed when it is an address."""
    chosen = "(chosen_identity).id"
    address = f"((chosen_identity).in_address_namespace or {is_address(quote_literal(''), chosen)})"
    return f"*, case when {address} then 'sha256:' || {hash_text(chosen)} else {chosen} end as profile_id"


def message_columns() -> str:
    """execution_id per scheduled run; message_id synthesised when the record has no messageProfileID."""
    synthetic = (
        "'synthetic:' || md5(concat_ws('|', message_execution_id, batch_instance_id, journey_instance_id, "
        "profile_id, channel))"
    )
    return f"""*,
        case when nullif(trim(batch_instance_id), '') is null then message_execution_id
             else message_execution_id || ':' || batch_instance_id end as execution_id,
        case when message_profile_id is null then {synthetic} else message_profile_id end as message_id"""


def events_cte(item: StagedFile, extra: dict[str, str], where: str = "true") -> str:
    """The CTEs ending in `events`: the shared columns plus `extra` (name -> expression)."""
    extras = "".join(f", {expression} as {name}" for name, expression in extra.items())
    return (
        f"with fields as (select {event_fields(item)}{extras} from {item.source} where {where}), "
        f"with_primaries as (select *, list_filter(identities, lambda i: lower(trim(i.primary)) = 'true') as primaries "
        f"from fields), "
        f"identified as (select {identity_columns()} from with_primaries), "
        f"profiled as (select {profile_columns()} from identified), "
        f"events as (select {message_columns()} from profiled)"
    )


def feedback_sql(item: StagedFile, columns: list[str]) -> str:
    p = item.resolver.text
    feedback = f"{CJM}.messageDeliveryfeedback"
    status = p(f"{feedback}.feedbackStatus")
    excluded = exclusion_reason(p(f"{feedback}.messageExclusion.reason"), p(f"{feedback}.messageExclusion.code"))
    failed = failure_reason(p(f"{feedback}.messageFailure.reason"))
    failure_code = failure_code_reason(p(f"{feedback}.messageFailure.code"))
    extra = {
        "feedback_status": status,
        "mapped_status": lookup(status, STATUSES, status),
        "failure_type": p(f"{feedback}.messageFailure.type"),
        "mapped_reason": f"""case lower(trim({status}))
            when 'duplicate' then 'duplicate'
            when 'denylist' then 'denylisted'
            when 'exclude' then coalesce({excluded}, {failed}, {failure_code})
            else coalesce({failed}, {failure_code}, {excluded}) end""",
        "email_address": p(EMAIL_ADDRESS),
        "mapped_platform": platform([(p(f"{CJM}.pushChannelContext.platform"), PLATFORMS),
                                     (p("environment.operatingSystem"), OPERATING_SYSTEMS)]),
    }
    select = {
        "status": "mapped_status",
        "reason": "mapped_reason",
        "recipient_address": "coalesce(email_address, case when channel = 'sms' then phone_identity end)",
        "platform": "mapped_platform",
    }
    return f"{events_cte(item, extra)} select {select_list(columns, select)} from events where not is_test_send"


def propositions_sql(item: StagedFile, columns: list[str]) -> str:
    """One row per offer placed in a sent message: the propositions' items, else the
    feedback's own `offers.offerID`."""
    p = item.resolver.text
    items = item.resolver.proposition_items()
    single = p(f"{CJM}.messageDeliveryfeedback.offers.offerID")
    offers = f"case when len(coalesce({items}, [])) > 0 then {items} when {single} is not null then [{single}] end"
    sent = f"lower(trim({p(f'{CJM}.messageDeliveryfeedback.feedbackStatus')})) = 'sent'"
    select = {"event_id": "event_id || '#offer-' || cast(offer_number as varchar)", "offer_id": "offer_id"}
    return f"""{events_cte(item, {'offers': offers}, where=sent)},
        placed as (select *, unnest(offers) as offer_id, generate_subscripts(offers, 1) as offer_number
                   from events where not is_test_send and offers is not null)
        select {select_list(columns, select)} from placed"""


def tracking_sql(item: StagedFile, columns: list[str]) -> str:
    p = item.resolver.text
    interaction = f"{CJM}.messageInteraction"
    kind = p(f"{interaction}.interactionType")
    if item.dataset.key == "push_tracking":
        mapped = lookup(p("eventType"), PUSH_EVENTS, p("eventType"))
    else:
        mapped = (f"case when lower(trim({p(f'{interaction}.isBot')})) = 'true' and lower(trim({kind})) in ('open', 'click') "
                  f"then 'bot_' || lower(trim({kind})) else {kind} end")
    extra = {
        "mapped_interaction": mapped,
        "url": p(f"{interaction}.url"),
        "element_id": p("pushNotificationTracking.customAction.actionID"),
        "offer_id": p(f"{interaction}.offers.offerID"),
        "mapped_platform": platform([(p(f"{CJM}.pushChannelContext.platform"), PLATFORMS),
                                     (p("pushNotificationTracking.pushProvider"), PLATFORMS),
                                     (p("environment.operatingSystem"), OPERATING_SYSTEMS)]),
        "user_agent": f"coalesce({p(f'{interaction}.environment.browserDetails.userAgent')}, "
                      f"{p('environment.browserDetails.userAgent')})",
    }
    select = {"interaction": "mapped_interaction", "platform": "mapped_platform"}
    return f"{events_cte(item, extra)} select {select_list(columns, select)} from events where not is_test_send"


def campaigns_sql(item: StagedFile, columns: list[str]) -> str:
    """One row per campaign (or journey version) of the file: the Entity dataset has two
    records per publication and one per message; the newest name (by lastModifiedAt, else
    publication time) wins; created_at is the first publication seen (UTC text)."""
    p = item.resolver.text
    entities = f"{CJM}.entities"
    campaign_id = first_present(p(f"{entities}.campaign.campaignID"), p(f"{entities}.journey.journeyVersionID"),
                                p(f"{entities}.orchestratedCampaign.campaignID"))
    name = first_present(p(f"{entities}.campaign.name"), p(f"{entities}.journey.journeyNameAndVersion"),
                         p(f"{entities}.journey.journeyName"), p(f"{entities}.orchestratedCampaign.name"))
    published = f"try_cast({utc_text(p(f'{entities}.channelDetails.messagePublishedAt'))} as timestamptz)"
    modified = f"try_cast({utc_text(p(f'{entities}.timestamp.lastModifiedAt'))} as timestamptz)"
    journey = (f"nullif(trim({p(f'{entities}.journey.journeyVersionID')}), '') is not null "
               f"or nullif(trim({p(f'{entities}.journey.journeyID')}), '') is not null")
    return f"""
        with entities as (
            select {campaign_id} as campaign_id, {name} as campaign_name,
                   case when {journey} then 'journey' end as campaign_type,
                   {published} as published_at, coalesce({modified}, {published}) as modified_at
            from {item.source}
        )
        select {select_list(columns, {'campaign_name': "arg_max(campaign_name, coalesce(modified_at, '-infinity'))",
                                      'campaign_type': 'max(campaign_type)',
                                      'created_at': f"strftime(min(published_at), '{TS_TEXT}')",
                                      'ingested_at': NULL_TEXT})}
        from entities
        group by campaign_id
    """


def mapping_sql(item: StagedFile, table: str) -> str:
    """One select reading the file and giving the contract columns of `table`, as text."""
    builders = {
        "message_feedback_events": feedback_sql,
        "offer_propositions": propositions_sql,
        "message_tracking_events": tracking_sql,
        "campaigns": campaigns_sql,
    }
    return builders[table](item, contract.columns(table))


def record_sql(item: StagedFile, schema: Node, path: str = "") -> str:
    """The kept record: every field path of the schema, as text, with the addresses removed
    (the email address, which raw.message_feedback_events.recipient_address holds for the
    same event_id, and the ids of identities in an address namespace or shaped like an
    address; their namespace and flags stay)."""
    if schema == IDENTITY_MAP:
        resolved = item.resolver.identity_map()
        if resolved is None:
            return f"cast(null as {IDENTITY_MAP_TYPE})"
        expression, fields = resolved
        kept = f"case when not {is_address('e.key', fields['id'])} then {fields['id']} end"
        return (
            f"map_from_entries(list_transform(map_entries({expression}), lambda e: {{'key': e.key, 'value': "
            f"list_transform(e.value, lambda i: {{'id': {kept}, 'primary': {fields['primary']}, "
            f"'authenticatedState': {fields['authenticatedState']}}})}}))"
        )
    if isinstance(schema, ListOf):
        resolved = item.resolver.propositions()
        if resolved is None:
            return f"cast(null as {record_type(schema)})"
        propositions, items, item_id = resolved
        return (f"list_transform({propositions}, lambda p: {{'items': list_transform(p.{items}, "
                f"lambda i: {{'id': cast(i.{item_id} as varchar)}})}})")
    if isinstance(schema, str):
        return NULL_TEXT if path == EMAIL_ADDRESS else item.resolver.text(path)
    parts = [f"{quote_literal(name)}: {record_sql(item, child, f'{path}.{name}' if path else name)}"
             for name, child in schema.items()]
    return "{" + ", ".join(parts) + "}"


def record_type(schema: Node) -> str:
    if schema == IDENTITY_MAP:
        return IDENTITY_MAP_TYPE
    if isinstance(schema, str):
        return schema
    if isinstance(schema, ListOf):
        return record_type(schema.item) + "[]"
    return "STRUCT(" + ", ".join(f"{quote_ident(n)} {record_type(c)}" for n, c in schema.items()) + ")"


# ---------------------------------------------------------------------------- loading


def ensure_ajo_tables(con: duckdb.DuckDBPyConnection) -> None:
    for dataset in DATASETS:
        con.execute(
            f"create table if not exists {RAW_SCHEMA}.{dataset.records_table} (_load_id varchar, "
            f"_source_file varchar, _file_sha256 varchar, _loaded_at timestamp, event_id varchar, "
            f"record {record_type(dataset.schema)})"
        )
    con.execute(
        f"create table if not exists {RAW_SCHEMA}._ajo_file_audit (load_id varchar, source_file varchar, "
        "file_sha256 varchar, dataset varchar, file_format varchar, records bigint, test_sends_withheld bigint, "
        "ignored_fields varchar, loaded_at timestamp, records_kept boolean)"
    )


def attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    version = settings.WAREHOUSE_CONFIG["storage_compatibility_version"]
    con.execute(f"attach {quote_literal(str(warehouse))} as warehouse (storage_version {quote_literal(version)})")
    con.execute("use warehouse")


def keep_records(con: duckdb.DuckDBPyConnection, item: StagedFile, load_id: str, loaded_at: str, keep: bool) -> int:
    """Keeps the file's records (unless `keep` is false) and writes its audit row; returns
    the number of test sends withheld from the contract tables."""
    withheld = 0
    if item.dataset.key != "entity":
        test = item.resolver.text(f"{CJM}.messageProfile.isTestExecution")
        withheld = con.execute(f"select count(*) from {item.source} where lower(trim({test})) = 'true'").fetchone()[0]
    if keep:
        con.execute(
            f"insert into {RAW_SCHEMA}.{item.dataset.records_table} "
            f"select ?, ?, ?, cast(? as timestamp), {item.resolver.text('_id')}, {record_sql(item, item.dataset.schema)} "
            f"from {item.source}",
            [load_id, str(item.path), item.sha256, loaded_at],
        )
    con.execute(
        f"insert into {RAW_SCHEMA}._ajo_file_audit values (?, ?, ?, ?, ?, ?, ?, ?, cast(? as timestamp), ?)",
        [load_id, str(item.path), item.sha256, item.dataset.key, item.file_format, item.records, withheld,
         ", ".join(item.ignored_fields), loaded_at, keep],
    )
    return int(withheld)


def land_file(con: duckdb.DuckDBPyConnection, item: StagedFile, load_id: str, loaded_at: str, quiet: bool,
              keep: bool = True) -> int:
    """Appends one file's rows to each of its tables and keeps its records once."""
    total = 0
    for table in item.tables:
        seen = con.execute(
            f"select count(*) from {flat.AUDIT_TABLE} where table_name = ? and file_sha256 = ?", [table, item.sha256]
        ).fetchone()[0]
        if seen:
            print(f"{item.path}: already loaded into {table} (same content), skipped")
            continue
        started = time.perf_counter()
        rows = flat.append_rows(con, table, mapping_sql(item, table), load_id, str(item.path), loaded_at)
        con.execute(
            f"insert into {flat.AUDIT_TABLE} values (?, ?, ?, ?, ?, cast(? as timestamp))",
            [load_id, table, str(item.path), item.sha256, rows, loaded_at],
        )
        total += rows
        if not quiet:
            print(f"{item.path} -> {table}: {rows:,} rows in {time.perf_counter() - started:.2f} s")
    audited, kept = con.execute(
        f"select count(*), count(*) filter (records_kept) from {RAW_SCHEMA}._ajo_file_audit where file_sha256 = ?",
        [item.sha256]).fetchone()
    if (keep and not kept) or not audited:
        started = time.perf_counter()
        withheld = keep_records(con, item, load_id, loaded_at, keep)
        if not quiet and keep:
            print(f"{item.path} -> raw.{item.dataset.records_table}: {item.records:,} records kept in "
                  f"{time.perf_counter() - started:.2f} s")
        if withheld and not audited:
            print(f"{item.path}: {withheld:,} test sends withheld from the contract tables"
                  + (f" (kept in raw.{item.dataset.records_table})" if keep else ""))
    return total


def load(warehouse: Path, table: str, files: list[Path], quiet: bool, keep_records_too: bool = True) -> int:
    """Checks every file (parsing JSON whole) in memory, then lands them all in one
    transaction; `keep_records_too=False` (--skip-records) does not keep the records."""
    con = duckdb.connect(config={"preserve_insertion_order": False})
    try:
        con.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        staged = [stage_file(con, table, path.resolve(), index) for index, path in enumerate(files)]
        for item in staged:
            extra = f"; fields not read: {', '.join(item.ignored_fields[:6])}" if item.ignored_fields else ""
            if not quiet:
                print(f"{item.path}: {item.dataset.title}, {item.file_format}, {item.records:,} records{extra}")
        if not quiet:
            print(f"checked {len(staged)} file(s) in {time.perf_counter() - started:.2f} s")
        attach_warehouse(con, warehouse)
        flat.ensure_tables(con)
        ensure_ajo_tables(con)
        load_id = uuid.uuid4().hex
        loaded_at = flat.load_stamp(con)
        total = 0
        con.execute("begin transaction")
        try:
            for item in staged:
                try:
                    total += land_file(con, item, load_id, loaded_at, quiet, keep_records_too)
                except duckdb.Error as error:
                    raise RefusedFile(f"{item.path}: cannot be read as an {item.dataset.title} export: "
                                      f"{first_line(error)}", item.path) from error
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        print(f"loaded {total:,} rows from {len(staged)} AJO export file(s) (load {load_id})")
        return 0
    finally:
        con.close()
