"""The mapping from an export's records to the contract tables' rows (one select per
table, every value as text), and the kept record, addresses removed (docs/decisions.md,
"AJO layout")."""

from __future__ import annotations

from tally import contract
from tally.common import quote_ident, quote_literal
from tally.load.ajo.schema import CJM, EMAIL_ADDRESS, IDENTITY_MAP, IDENTITY_MAP_TYPE, NULL_TEXT, ListOf, Node, record_type
from tally.load.ajo.stage import StagedFile
from tally.load.ajo.values import (
    ADDRESS_NAMESPACES,
    CHANNELS,
    OPERATING_SYSTEMS,
    PHONE_NAMESPACES,
    PLATFORMS,
    PUSH_EVENTS,
    STATUSES,
    TS_TEXT,
    epoch_ms_text,
    exclusion_reason,
    failure_code_reason,
    failure_reason,
    first_present,
    hash_text,
    is_address,
    lookup,
    platform,
    sql_list,
    utc_text,
)


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
        entries = 'cast(null as STRUCT(namespace VARCHAR, id VARCHAR, "primary" VARCHAR, authenticatedState VARCHAR)[])'
    return f"""
        {p("_id")} as event_id,
        {utc_text(p("timestamp"))} as event_ts,
        {epoch_ms_text(p("_acp_system_metadata.ingestTime"))} as ingested_at,
        {
        first_present(
            p(f"{execution}.campaignID"),
            p(f"{execution}.ajoCampaignID"),
            p(f"{execution}.journeyVersionID"),
            p(f"{execution}.parentSourceMeta.sourceID"),
        )
    } as campaign_id,
        {p(f"{execution}.messageExecutionID")} as message_execution_id,
        {p(f"{execution}.batchInstanceID")} as batch_instance_id,
        {p(f"{execution}.journeyVersionInstanceID")} as journey_instance_id,
        {p(f"{CJM}.messageProfile.messageProfileID")} as message_profile_id,
        case when nullif(trim({channel_uri}), '') is not null then {lookup(uri_token, CHANNELS, uri_token)}
             when nullif(trim({channel_type}), '') is not null then {lookup(channel_type, CHANNELS, channel_type)}
             else {default} end as channel,
        {entries} as identities,
        coalesce(lower(trim({p(f"{CJM}.messageProfile.isTestExecution")})) = 'true', false) as is_test_send
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
        "'synthetic:' || md5(concat_ws('|', message_execution_id, batch_instance_id, journey_instance_id, profile_id, channel))"
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
        "mapped_platform": platform(
            [(p(f"{CJM}.pushChannelContext.platform"), PLATFORMS), (p("environment.operatingSystem"), OPERATING_SYSTEMS)]
        ),
        "content_message_id": p(f"{CJM}.messageExecution.messageID"),
        "variant": p(f"{CJM}.messageProfile.variant"),
    }
    select = {
        "status": "mapped_status",
        "reason": "mapped_reason",
        "recipient_address": "coalesce(email_address, case when channel = 'sms' then phone_identity end)",
        "platform": "mapped_platform",
        # The experiment of the send's content message, and the treatment of its variant,
        # from the Entity exports loaded so far (this invocation's first); a variant no
        # Entity record names is kept as the treatment id of the content's experiment.
        "experiment_id": "experiments.experiment_id",
        "experiment_name": "experiments.experiment_name",
        "treatment_id": "case when experiments.experiment_id is not null then coalesce(treatments.treatment_id, variant) end",
        "treatment_name": "treatments.treatment_name",
    }
    treatments_table = "warehouse.raw.ajo_experiment_treatments"
    return (
        f"{events_cte(item, extra)} select {select_list(columns, select)} from events "
        f"left join (select message_id as content_id, min(experiment_id) as experiment_id, "
        f"min(experiment_name) as experiment_name from {treatments_table} where experiment_id is not null group by message_id) "
        "as experiments on experiments.content_id = events.content_message_id "
        f"left join (select message_id as content_id, variant_id, min(treatment_id) as treatment_id, "
        f"min(treatment_name) as treatment_name from {treatments_table} where variant_id is not null "
        "group by message_id, variant_id) as treatments "
        "on treatments.content_id = events.content_message_id and treatments.variant_id = events.variant "
        "where not is_test_send"
    )


def unnamed_variants_sql(item: StagedFile) -> str:
    """How many of a feedback file's records name a content variant whose experiment no
    Entity export loaded so far names (they land with no experiment)."""
    p = item.resolver.text
    content = p(f"{CJM}.messageExecution.messageID")
    return (
        f"select count(*) from {item.source} where nullif(trim({p(f'{CJM}.messageProfile.variant')}), '') is not null "
        f"and {content} not in (select message_id from warehouse.raw.ajo_experiment_treatments where message_id is not null)"
    )


def experiments_sql(item: StagedFile) -> str:
    """The file's content messages that run an experiment: per message and variant, the
    experiment and the treatment (distinct rows: the platform writes two records per
    publication)."""
    p = item.resolver.text
    entities = f"{CJM}.entities"
    return f"""
        select distinct
            {p(f"{entities}.channelDetails.messageID")} as message_id,
            {p(f"{entities}.channelDetails.variantID")} as variant_id,
            {p(f"{entities}.experiment.experimentId")} as experiment_id,
            {p(f"{entities}.experiment.experimentName")} as experiment_name,
            coalesce({p(f"{entities}.experiment.treatmentID")}, {p(f"{entities}.channelDetails.variantID")}) as treatment_id,
            coalesce({p(f"{entities}.experiment.treatmentName")}, {p(f"{entities}.channelDetails.variantName")})
                as treatment_name
        from {item.source}
        where nullif(trim({p(f"{entities}.experiment.experimentId")}), '') is not null
    """


def propositions_sql(item: StagedFile, columns: list[str]) -> str:
    """One row per offer placed in a sent message: the propositions' items, else the
    feedback's own `offers.offerID`."""
    p = item.resolver.text
    items = item.resolver.proposition_items()
    single = p(f"{CJM}.messageDeliveryfeedback.offers.offerID")
    offers = f"case when len(coalesce({items}, [])) > 0 then {items} when {single} is not null then [{single}] end"
    sent = f"lower(trim({p(f'{CJM}.messageDeliveryfeedback.feedbackStatus')})) = 'sent'"
    select = {"event_id": "event_id || '#offer-' || cast(offer_number as varchar)", "offer_id": "offer_id"}
    return f"""{events_cte(item, {"offers": offers}, where=sent)},
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
        # A bot open or click is an open or click flagged as a machine's (is_bot), never a
        # reject: the reports count it in the totals and leave it out of the human figures.
        mapped = f"case lower(trim({kind})) when 'bot_open' then 'open' when 'bot_click' then 'click' else {kind} end"
    bot_flag = p(f"{interaction}.isBot")
    extra = {
        "mapped_interaction": mapped,
        "is_bot": f"case when lower(trim({kind})) in ('bot_open', 'bot_click') then 'true' else {bot_flag} end",
        "url": p(f"{interaction}.url"),
        "element_id": p("pushNotificationTracking.customAction.actionID"),
        "offer_id": p(f"{interaction}.offers.offerID"),
        "mapped_platform": platform(
            [
                (p(f"{CJM}.pushChannelContext.platform"), PLATFORMS),
                (p("pushNotificationTracking.pushProvider"), PLATFORMS),
                (p("environment.operatingSystem"), OPERATING_SYSTEMS),
            ]
        ),
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
    campaign_id = first_present(
        p(f"{entities}.campaign.campaignID"),
        p(f"{entities}.journey.journeyVersionID"),
        p(f"{entities}.orchestratedCampaign.campaignID"),
    )
    name = first_present(
        p(f"{entities}.campaign.name"),
        p(f"{entities}.journey.journeyNameAndVersion"),
        p(f"{entities}.journey.journeyName"),
        p(f"{entities}.orchestratedCampaign.name"),
    )
    published = f"try_cast({utc_text(p(f'{entities}.channelDetails.messagePublishedAt'))} as timestamptz)"
    modified = f"try_cast({utc_text(p(f'{entities}.timestamp.lastModifiedAt'))} as timestamptz)"
    journey = (
        f"nullif(trim({p(f'{entities}.journey.journeyVersionID')}), '') is not null "
        f"or nullif(trim({p(f'{entities}.journey.journeyID')}), '') is not null"
    )
    return f"""
        with entities as (
            select {campaign_id} as campaign_id, {name} as campaign_name,
                   case when {journey} then 'journey' end as campaign_type,
                   {published} as published_at, coalesce({modified}, {published}) as modified_at
            from {item.source}
        )
        select {
        select_list(
            columns,
            {
                "campaign_name": "arg_max(campaign_name, coalesce(modified_at, '-infinity'))",
                "campaign_type": "max(campaign_type)",
                "created_at": f"strftime(min(published_at), '{TS_TEXT}')",
                "ingested_at": NULL_TEXT,
            },
        )
    }
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
        return (
            f"list_transform({propositions}, lambda p: {{'items': list_transform(p.{items}, "
            f"lambda i: {{'id': cast(i.{item_id} as varchar)}})}})"
        )
    if isinstance(schema, str):
        return NULL_TEXT if path == EMAIL_ADDRESS else item.resolver.text(path)
    parts = [
        f"{quote_literal(name)}: {record_sql(item, child, f'{path}.{name}' if path else name)}" for name, child in schema.items()
    ]
    return "{" + ", ".join(parts) + "}"
