"""The platform's values in the contract's terms, as SQL expressions: timestamps to UTC
text, channels, statuses, platforms, exclusion and failure reasons, and the hashing of
addresses (the same rule as staging's hash_pii macro)."""

from __future__ import annotations

import os

from tally.common import quote_literal

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


def sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(quote_literal(v) for v in values)


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
    "email": "email",
    "sms": "sms",
    "push": "push",
    "inapp": "inapp",
    "in-app": "inapp",
    "web": "web",
    "direct-mail": "direct_mail",
    "directmail": "direct_mail",
    "direct_mail": "direct_mail",
}


STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "bounce": "bounce",
    "error": "error",
    "exclude": "excluded",
    "duplicate": "excluded",
    "denylist": "excluded",
    "delay": "retry",
}


PLATFORMS = {"apns": "ios", "apnssandbox": "ios", "fcm": "android", "web": "web"}
OPERATING_SYSTEMS = {"ios": "ios", "ipados": "ios", "android": "android"}
PUSH_EVENTS = {"pushTracking.applicationOpened": "open", "pushTracking.customAction": "action"}
EXCLUSION_REASONS = {
    **dict.fromkeys(["EmailNoConsent", "PushNoConsent", "SMSNoConsent"], "consent_missing"),
    **dict.fromkeys(["Suppressed", "EmailSuppressed", "DomainSuppressed"], "suppressed"),
    **dict.fromkeys(["NotAllowed", "EmailNotAllowed", "DomainNotAllowed"], "not_allowed"),
    **dict.fromkeys(
        [
            "EmailNoAddressFoundInProfile",
            "SMSNoToNumberDefinedInProfile",
            "PushNoTokenFoundInProfile",
            "PushNoValidTokenFoundForApps",
            "EmailNoSubscriberIdFoundInProfile",
        ],
        "missing_address",
    ),
    **dict.fromkeys(["EmailMalformedAddress", "PushMalformedProfile", "personalizedDomainNotValid"], "invalid_address"),
    "ExcludedForControlRules": "frequency_capped",
    "ExperimentationHoldoutExclusion": "holdout",
    **dict.fromkeys(
        [
            "DirectMailNoVariantDefined",
            "DirectMailNoMessageFoundForTreatment",
            "EmailNoAddressDefinedInPreset",
            "EmailNoVariantDefined",
            "EmailNoMessageFoundForTreatment",
            "UnsubscribeLinkNotValid",
            "AttachmentResolutionFailed",
            "InAppNoVariantDefined",
            "InAppNoMessageFoundForTreatment",
            "PushNoApplicationDefinedInPreset",
            "PushNoVariantDefined",
            "PushNoMessageFoundForTreatment",
            "SMSFromNumberNotDefinedInPreset",
            "SMSNoVariantDefined",
            "SMSNoMessageFoundForTreatment",
            "WebNoVariantDefined",
            "WebNoMessageFoundForTreatment",
            "NamespaceErrorForExperimentation",
        ],
        "configuration_error",
    ),
    **dict.fromkeys(["RuntimeDispatchError", "RuntimeRenderingError"], "technical_error"),
}


# Six-digit exclusion codes (fact sheet table 2.3); a wrapped form such as CJMRT-050030-422
# is read by its six digits.
EXCLUSION_CODES = {
    **dict.fromkeys(["050301", "050302"], "technical_error"),
    **dict.fromkeys(
        [
            "050017",
            "050062",
            "050061",
            "050021",
            "050026",
            "050027",
            "050081",
            "050083",
            "050041",
            "050042",
            "050033",
            "050035",
            "050036",
            "050152",
            "050154",
            "050155",
        ],
        "configuration_error",
    ),
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
SMTP_STATUSES = {
    "1.1": "user_unknown",
    "1.2": "invalid_domain",
    "1.10": "invalid_domain",
    "2.1": "account_disabled",
    "2.2": "mailbox_full",
}


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
