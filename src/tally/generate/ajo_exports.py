"""Writes generated events as the platform's own dataset exports (`tally generate --layout ajo`).

The generator builds its events in the flat contract's shape (temp tables out_feedback,
out_tracking, out_propositions, out_campaigns). This module first reduces them to what the
platform's datasets can carry (the *representable* events, table `rep_*`), then writes
those as AJO exports: Message Feedback (with the offers placed in each sent message),
Email Tracking (email and SMS interactions), Push Tracking and Entity, as NDJSON gzipped or
nested Parquet, with the field paths tally.load.ajo.schema reads. Loading the exports with
`tally load --layout ajo` gives back the representable events exactly (tested), so
`--layout both` also writes them in the flat layout for comparison.

What the platform's datasets cannot carry, and so the representable events leave out:
* email `mirror_page` and `forward` interactions (no `interactionType` for them);
* in-app and web interactions: they live in the team's own Web/Mobile SDK datasets, not in
  the system datasets; they stay in a flat `message_tracking_events` file beside the exports;
* push device tokens and direct-mail postal addresses (not recorded by the platform);
* a web message's `platform` (no source);
* offer propositions of their own: an offer is part of its sent message's feedback record,
  so a proposition row has the record's id plus `#offer-<n>`, its time and arrival, and is
  duplicated only with it;
* `campaign_type` other than `journey` (the Entity dataset does not tell scheduled from
  API-triggered campaigns);
* the experiment of a campaign that has no Entity record (the two campaigns known only
  from their events) or of a row without a campaign: the Entity records name experiments.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from tally import contract
from tally.common import quote_literal
from tally.generate.files import COLUMNS

CHANNEL_URI = (
    "case lower(trim({c})) when 'direct_mail' then 'https://ns.adobe.com/xdm/channels/direct-mail' "
    "else 'https://ns.adobe.com/xdm/channels/' || lower(trim({c})) end"
)
FAILURE_TEXTS = {
    "user_unknown": "Invalid Recipient",
    "invalid_domain": "DNS Failure",
    "mailbox_full": "Mailbox Full",
    "refused": "Relaying Denied",
    "unreachable": "Soft Bounce",
}
# (contract reason, channel) -> (exclusion reason name, code) as the platform writes them.
EXCLUSIONS = {
    ("suppressed", "email"): ("Suppressed", "050107"),
    ("missing_address", "email"): ("EmailNoAddressFoundInProfile", "050020"),
    ("missing_address", "sms"): ("SMSNoToNumberDefinedInProfile", "050153"),
    ("missing_address", "push"): ("PushNoTokenFoundInProfile", "050030"),
    ("invalid_address", "email"): ("EmailMalformedAddress", "050024"),
    ("invalid_address", "push"): ("PushMalformedProfile", "050034"),
    ("consent_missing", "email"): ("EmailNoConsent", "050101"),
    ("consent_missing", "push"): ("PushNoConsent", "050111"),
    ("consent_missing", "sms"): ("SMSNoConsent", "050104"),
    **{("holdout", channel): ("ExperimentationHoldoutExclusion", "050018") for channel in ("email", "sms", "push")},
}
ALL_CHANNELS = contract.CHANNELS


def case_map(expression: str, mapping: dict[str, str], default: str) -> str:
    whens = " ".join(f"when {quote_literal(k)} then {quote_literal(v)}" for k, v in mapping.items())
    return f"case {expression} {whens} else {default} end"


def build_representable(con: duckdb.DuckDBPyConnection) -> None:
    """rep_feedback, rep_tracking, rep_propositions, rep_campaigns: the generated events as
    the platform records them (see the module docstring for what is left out)."""
    con.execute(
        """
        create or replace temp table sent_offers as
        select f.event_id, list(p.offer_id order by p.step) as offers
        from fb_rows as f
        inner join propositions as p on p.n = f.n
        where f.status = 'sent' and f.step = 0
        group by f.event_id
        """
    )
    con.execute(
        """
        create or replace temp table rep_feedback as
        select
            f.* replace (
                case when lower(trim(f.channel)) in ('push', 'direct_mail') then null else f.recipient_address end
                    as recipient_address,
                case when lower(trim(f.channel)) = 'web' then null else f.platform end as platform,
                -- an experiment is named by its campaign's Entity records: none for a campaign
                -- known only from its events, or for a row without a campaign
                case when c.campaign_id is not null then f.experiment_id end as experiment_id,
                case when c.campaign_id is not null then f.experiment_name end as experiment_name,
                case when c.campaign_id is not null then f.treatment_id end as treatment_id,
                case when c.campaign_id is not null then f.treatment_name end as treatment_name
            ),
            case when lower(trim(f.status)) = 'sent' then o.offers end as offers
        from out_feedback as f
        left join sent_offers as o on o.event_id = f.event_id
        left join out_campaigns as c on c.campaign_id = f.campaign_id
        """
    )
    con.execute(
        """
        create or replace temp table rep_propositions as
        select event_id || '#offer-' || cast(offer_number as varchar) as event_id, event_ts, ingested_at, campaign_id,
               execution_id, message_id, profile_id, channel, offer_id
        from (
            select *, unnest(offers) as offer_id, generate_subscripts(offers, 1) as offer_number
            from rep_feedback
            where offers is not null
        )
        """
    )
    con.execute(
        """
        create or replace temp table rep_tracking as
        select * from out_tracking where lower(trim(interaction)) not in ('mirror_page', 'forward')
        """
    )
    con.execute(
        """
        create or replace temp table rep_campaigns as
        select campaign_id, campaign_name, case when campaign_type = 'journey' then 'journey' end as campaign_type,
               created_at
        from out_campaigns
        """
    )


def ajo_timestamp(column: str, typed: bool) -> str:
    """JSON: ISO-8601 UTC with milliseconds and Z, as Adobe's examples; Parquet: a timestamp.
    A value that is not a timestamp stays as it is in JSON (and is null in Parquet)."""
    parsed = f"try_cast({column} as timestamp)"
    if typed:
        return parsed
    return f"coalesce(strftime({parsed}, '%Y-%m-%dT%H:%M:%S.%gZ'), {column})"


def identity_map(channel: str) -> str:
    """The profile's business id as the primary identity; an email or phone identity (and an
    ECID for push) beside it, as the platform's records show several namespaces."""
    entries = [
        ("'crmId'", "profile_id", "true", "profile_id is not null"),
        ("'email'", "recipient_address", "false", "recipient_address like '%@%'"),
        ("'Phone'", "recipient_address", "false", f"{channel} = 'sms' and recipient_address is not null"),
        ("'ECID'", "cast(hash(profile_id) as varchar)", "false", f"{channel} = 'push'"),
    ]
    items = ", ".join(
        f"{{'key': {key}, 'value': [{{'id': {value}, 'primary': {primary}}}], 'keep': {keep}}}"
        for key, value, primary, keep in entries
    )
    return (
        f"map_from_entries(list_transform(list_filter([{items}], lambda e: coalesce(e.keep, false)), "
        "lambda e: {'key': e.key, 'value': e.value}))"
    )


def execution_block(extra: str = "") -> str:
    """messageExecution: campaigns carry campaignID, journeys journeyVersionID."""
    return f"""{{
        'messageExecutionID': execution_id,
        'messageID': campaign_id || '-content-0',
        'campaignID': case when campaign_type is distinct from 'journey' then campaign_id end,
        'journeyVersionID': case when campaign_type = 'journey' then campaign_id end,
        'journeyVersionInstanceID': case when campaign_type = 'journey' then md5(coalesce(message_id, '')) end,
        'messageType': 'marketing'{extra}
    }}"""


def profile_block(variant: str = "cast(null as varchar)") -> str:
    return f"""{{
        'messageProfileID': message_id,
        'channel': {{'_id': channel_uri, '_type': replace(channel_uri, '/channels/', '/channel-types/')}},
        'isTestExecution': false,
        'variant': {variant}
    }}"""


def feedback_select(typed: bool) -> str:
    status = "lower(trim(status))"
    ajo_status = case_map(
        status,
        {"retry": "delay", "sent": "sent", "delivered": "delivered", "bounce": "bounce", "error": "error"},
        f"case when {status} = 'excluded' then "
        "case lower(trim(reason)) when 'duplicate' then 'duplicate' when 'denylisted' then 'denylist' else 'exclude' end "
        "else status end",
    )
    failure_type = case_map("lower(trim(failure_type))", {"hard": "Hard", "soft": "Soft", "ignored": "Ignored"}, "failure_type")
    failure_text = case_map("reason", FAILURE_TEXTS, "reason")
    names = " ".join(
        f"when reason = {quote_literal(reason)} and lower(trim(channel)) = {quote_literal(channel)} then {quote_literal(name)}"
        for (reason, channel), (name, _) in EXCLUSIONS.items()
    )
    codes = " ".join(
        f"when reason = {quote_literal(reason)} and lower(trim(channel)) = {quote_literal(channel)} then {quote_literal(code)}"
        for (reason, channel), (_, code) in EXCLUSIONS.items()
    )
    named = f"case {names} when reason = 'frequency_capped' then 'ExcludedForControlRules' else reason end"
    coded = f"case {codes} when reason = 'frequency_capped' then '050002' end"
    platform = case_map("platform", {"ios": "apns", "android": "fcm", "web": "web"}, "platform")
    os_name = case_map("platform", {"ios": "iOS", "android": "Android"}, "null")
    return f"""
        select
            event_id as "_id",
            {ajo_timestamp("event_ts", typed)} as "timestamp",
            'message.feedback' as "eventType",
            {identity_map("lower(trim(channel))")} as "identityMap",
            {{'ingestTime': epoch_ms(cast(ingested_at as timestamp))}} as "_acp_system_metadata",
            {{
                'customerJourneyManagement': {{
                    'messageExecution': {execution_block()},
                    'messageProfile': {profile_block("case when treatment_id is not null then 'variant-' || treatment_id end")},
                    'emailChannelContext': case when recipient_address like '%@%' then {{
                        'address': recipient_address, 'namespace': 'email',
                        'domain': split_part(recipient_address, '@', -1)}} end,
                    'pushChannelContext': case when lower(trim(channel)) = 'push' and platform is not null
                        then {{'platform': {platform}}} end,
                    'messageDeliveryfeedback': {{
                        'feedbackStatus': {ajo_status},
                        'retryCount': case when {status} = 'retry' then 1 else 0 end,
                        'messageFailure': case when {status} <> 'excluded' and (failure_type is not null or reason is not null)
                            then {{'type': {failure_type}, 'category': case when {status} = 'error' then 'sync' else 'async' end,
                                  'reason': {failure_text}}} end,
                        'messageExclusion': case when {status} = 'excluded' and reason is not null
                            and lower(trim(reason)) not in ('duplicate', 'denylisted')
                            then {{'code': {coded}, 'reason': {named}}} end
                    }}
                }},
                'decisioning': case when offers is not null then {{
                    'propositions': [{{
                        'id': md5(event_id),
                        'scopeDetails': {{'correlationID': campaign_id || '-publication'}},
                        'items': list_transform(offers, lambda o: {{'id': o, 'name': 'Offer ' || o}})
                    }}]
                }} end
            }} as "_experience",
            case when {os_name} is not null then {{'operatingSystem': {os_name}}} end as "environment"
        from (
            select f.*, c.campaign_type, {CHANNEL_URI.format(c="f.channel")} as channel_uri
            from rep_feedback as f
            left join campaign_rows as c using (campaign_id)
        )
        order by all
    """


def email_tracking_select(typed: bool) -> str:
    return f"""
        select
            event_id as "_id",
            {ajo_timestamp("event_ts", typed)} as "timestamp",
            'message.tracking' as "eventType",
            {identity_map("lower(trim(channel))")} as "identityMap",
            {{'ingestTime': epoch_ms(cast(ingested_at as timestamp))}} as "_acp_system_metadata",
            {{
                'customerJourneyManagement': {{
                    'messageExecution': {execution_block()},
                    'messageProfile': {profile_block()},
                    'messageInteraction': {{
                        -- the platform's own bot flag: a bot_open or bot_click, isBot
                        'interactionType': case when lower(trim(is_bot)) = 'true' and lower(trim(interaction)) in ('open', 'click')
                            then 'bot_' || lower(trim(interaction)) else lower(trim(interaction)) end,
                        'url': url,
                        'urlID': case when url is not null then cast(hash(url) % 1000 as varchar) end,
                        'label': case when url is not null then 'link ' || split_part(url, '/', -1) end,
                        'trackingType': case when url is not null then 'tracked' end,
                        'isBot': case when is_bot is not null then lower(trim(is_bot)) = 'true' end,
                        'offers': case when offer_id is not null then {{'offerID': offer_id}} end,
                        'environment': case when user_agent is not null then {{'browserDetails': {{'userAgent': user_agent}}}} end
                    }}
                }}
            }} as "_experience"
        from (
            select t.*, null as recipient_address, c.campaign_type, {CHANNEL_URI.format(c="t.channel")} as channel_uri
            from rep_tracking as t
            left join campaign_rows as c using (campaign_id)
            where lower(trim(t.channel)) not in ('push', 'inapp', 'web')
        )
        order by all
    """


def push_tracking_select(typed: bool) -> str:
    event_type = case_map(
        "lower(trim(interaction))",
        {"open": "pushTracking.applicationOpened", "action": "pushTracking.customAction"},
        "'pushTracking.' || interaction",
    )
    platform = case_map("platform", {"ios": "apns", "android": "fcm", "web": "web"}, "platform")
    return f"""
        select
            event_id as "_id",
            {ajo_timestamp("event_ts", typed)} as "timestamp",
            {event_type} as "eventType",
            {identity_map("'push'")} as "identityMap",
            {{'ingestTime': epoch_ms(cast(ingested_at as timestamp))}} as "_acp_system_metadata",
            {{
                'pushProviderMessageID': md5(event_id),
                'pushProvider': {platform},
                'customAction': case when element_id is not null then {{'actionID': element_id}} end
            }} as "pushNotificationTracking",
            {{'launches': {{'value': case when lower(trim(interaction)) = 'open' then 1 else 0 end}}}} as "application",
            {{
                'operatingSystem': {case_map("platform", {"ios": "iOS", "android": "Android"}, "null")},
                'browserDetails': case when user_agent is not null then {{'userAgent': user_agent}} end
            }} as "environment",
            {{
                'customerJourneyManagement': {{
                    'messageExecution': {execution_block()},
                    'messageProfile': {profile_block()},
                    'pushChannelContext': case when platform is not null then {{'platform': {platform}}} end
                }}
            }} as "_experience"
        from (
            select t.*, null as recipient_address, c.campaign_type, {CHANNEL_URI.format(c="t.channel")} as channel_uri
            from rep_tracking as t
            left join campaign_rows as c using (campaign_id)
            where lower(trim(t.channel)) = 'push'
        )
        order by all
    """


def entity_select(typed: bool) -> str:
    """Two records per publication, as the platform writes them; a campaign that runs a
    content experiment publishes one per treatment (its variant, the experiment and the
    treatment)."""
    return f"""
        with treatments as (
            select distinct campaign_id, experiment_id, experiment_name, treatment_id, treatment_name
            from rep_feedback
            where experiment_id is not null and treatment_id is not null
        ),
        publications as (
            select r.*, t.experiment_id, t.experiment_name, t.treatment_id, t.treatment_name
            from rep_campaigns as r
            left join treatments as t using (campaign_id)
        )
        select
            'entity-' || campaign_id || coalesce('-' || treatment_id, '') || '-' || cast(copy as varchar) as "_id",
            {{
                'customerJourneyManagement': {{
                    'entities': {{
                        'campaign': case when r.campaign_type is distinct from 'journey'
                            then {{'campaignID': campaign_id, 'name': campaign_name}} end,
                        'journey': case when r.campaign_type = 'journey' then {{
                            'journeyID': 'journey-' || campaign_id, 'journeyVersionID': campaign_id,
                            'journeyName': campaign_name}} end,
                        'channelDetails': {{
                            'messageID': campaign_id || '-content-0',
                            'channel': {{'_id': {CHANNEL_URI.format(c="c.channel")}}},
                            'messagePublishedAt': {ajo_timestamp("created_at", typed)},
                            'variantID': case when treatment_id is not null then 'variant-' || treatment_id end,
                            'variantName': case when treatment_id is not null then 'Variant ' || upper(right(treatment_id, 1)) end,
                            'isMultiVariant': treatment_id is not null
                        }},
                        'experiment': case when experiment_id is not null then {{
                            'experimentId': experiment_id, 'experimentName': experiment_name,
                            'treatmentID': treatment_id, 'treatmentName': treatment_name}} end
                    }}
                }}
            }} as "_experience"
        from publications as r
        inner join campaign_rows as c using (campaign_id)
        cross join range(2) as copies (copy)
        order by all
    """


def write_flat(con: duckdb.DuckDBPyConnection, out: Path, file_format: str, sources: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    options = "(format parquet, compression zstd)" if file_format == "parquet" else "(format csv, header true)"
    for table, (source) in sources.items():
        columns = ", ".join(COLUMNS[table])
        con.execute(f"copy (select {columns} from {source} order by all) to '{out / f'{table}.{file_format}'}' {options}")


def write(con: duckdb.DuckDBPyConnection, out: Path, file_format: str, ajo_format: str, layout: str) -> dict[str, int]:
    """Writes the exports (and, for layout `both`, the same events flat in out/flat)."""
    build_representable(con)
    ajo_dir = out / "ajo" if layout == "both" else out
    ajo_dir.mkdir(parents=True, exist_ok=True)
    typed = ajo_format == "parquet"
    suffix = "parquet" if typed else "json.gz"
    options = "(format parquet, compression zstd)" if typed else "(format json, compression gzip)"
    exports = {
        "ajo_message_feedback": feedback_select(typed),
        "ajo_email_tracking": email_tracking_select(typed),
        "ajo_push_tracking": push_tracking_select(typed),
        "ajo_entity": entity_select(typed),
    }
    counts = {}
    for name, select in exports.items():
        target = ajo_dir / f"{name}.{suffix}"
        con.execute(f"copy ({select}) to '{target}' {options}")
        counts[name] = con.execute(f"select count(*) from ({select})").fetchone()[0]
    # In-app and web interactions come from the team's own datasets, in the flat layout.
    con.execute(
        "create or replace temp table rep_tracking_own as select * from rep_tracking "
        "where lower(trim(channel)) in ('inapp', 'web')"
    )
    write_flat(con, ajo_dir, file_format, {"message_tracking_events": "rep_tracking_own"})
    counts["message_tracking_events (in-app, web; flat)"] = con.execute("select count(*) from rep_tracking_own").fetchone()[0]
    if layout == "both":
        write_flat(
            con,
            out / "flat",
            file_format,
            {
                "message_feedback_events": "rep_feedback",
                "message_tracking_events": "rep_tracking",
                "offer_propositions": "rep_propositions",
                "campaigns": "rep_campaigns",
            },
        )
    return counts
