"""Generate realistic raw message events in the contract's shape, inside DuckDB.

Why it works this way:
* Everything is SQL over `range()`: no Python loop touches a row, so 10 million events
  take seconds, not minutes.
* Randomness is `hash(seed, salt, row)`, not `random()`: the output is the same for the
  same --seed whatever the thread count, so samples and benchmarks are reproducible.
* Every column is text, because some rows deliberately break the contract (a date that
  does not parse must be representable).

What it produces, on all six channels: exclusions and errors, ~97% delivered, hard /
soft / ignored bounces (some hours late), retries that later deliver, bounce or are
still queued; repeated opens (some days later), clicks with and without a tracked open,
unsubscriptions, complaints, mirror page views, forwards, push actions, in-app and web
impressions and interactions, offers; recurring campaigns with several executions; and
what real feeds do: duplicate event ids, late and out-of-order arrival, and a few
contract-breaking rows of every kind (listed in tally.generate.raw_rows.BAD_ROW_KINDS).
"""

from __future__ import annotations

import duckdb

# Average events per message at the rates below; sizes the message count for --events.
EVENTS_PER_MESSAGE = 3.13


def rand(salt: str, key: str = "n") -> str:
    """A uniform number in [0, 1) from the seed, a salt and a row key: deterministic."""
    return f"((hash(getvariable('seed'), '{salt}', {key}) % 1000000) / 1000000.0)"


def ts_text(expr: str) -> str:
    return f"strftime({expr}, '%Y-%m-%d %H:%M:%S')"


# The true relative lift of treatment B's unique opens and unique clicks over treatment A's
# in the generated content experiments (--experiment-lift).
DEFAULT_EXPERIMENT_LIFT = 0.2


def build(
    con: duckdb.DuckDBPyConnection,
    events: int,
    seed: int,
    start: str,
    days: int,
    experiment_lift: float = DEFAULT_EXPERIMENT_LIFT,
) -> None:
    """The logical events as temp tables: campaigns, executions, messages and their
    attributes, then the feedback, tracking and proposition events of each message.
    `experiment_lift`: treatment B's true relative lift in the content experiments."""
    messages = max(60, int(events / EVENTS_PER_MESSAGE))
    campaigns = max(12, messages // 3000)
    profiles = max(20, messages // 3)
    con.execute(f"set variable seed = {int(seed)}")
    con.execute(f"set variable start_ts = timestamp '{start}'")
    con.execute(f"set variable span_seconds = {int(days) * 86400}")
    con.execute(f"set variable experiment_lift = {float(experiment_lift)!r}")
    create_campaigns(con, campaigns)
    create_executions(con)
    create_messages(con, messages, profiles)
    create_message_attributes(con)
    create_feedback(con)
    create_tracking(con)
    create_propositions(con)


def create_campaigns(con: duckdb.DuckDBPyConnection, campaigns: int) -> None:
    """One row per campaign: its channel, type, and whether it places offers."""
    con.execute(
        f"""
        create temp table campaign_rows as
        with base as (select range as n from range({campaigns}))
        select
            n,
            'cmp_' || lpad(cast(n as varchar), 5, '0') as campaign_id,
            case
                when n < 6 then ['email', 'sms', 'push', 'inapp', 'web', 'direct_mail'][n + 1]
                when {rand("ch")} < 0.50 then 'email'
                when {rand("ch")} < 0.62 then 'sms'
                when {rand("ch")} < 0.77 then 'push'
                when {rand("ch")} < 0.85 then 'inapp'
                when {rand("ch")} < 0.95 then 'web'
                else 'direct_mail'
            end as channel,
            case when {rand("ty")} < 0.6 then 'scheduled' when {rand("ty")} < 0.8 then 'api_triggered' else 'journey' end
                as campaign_type,
            -- about 30% of email campaigns place offers (the first one always does)
            channel = 'email' and (n = 0 or {rand("offers")} < 0.3) as has_offers,
            -- about 20% of email campaigns run a content experiment (the first one always does)
            channel = 'email' and (n = 0 or {rand("experiment")} < 0.2) as has_experiment
        from base
        """
    )


def create_executions(con: duckdb.DuckDBPyConnection) -> None:
    """One row per execution: scheduled campaigns run up to five times, the others once."""
    con.execute(
        f"""
        create temp table execution_rows as
        with expanded as (
            select c.*,
                unnest(range(case when c.campaign_type = 'scheduled' then 1 + cast({rand("ex", "c.n")} * 4 as int) else 1 end))
                    as execution_number
            from campaign_rows as c
        )
        select
            row_number() over (order by n, execution_number) - 1 as execution_index,
            campaign_id, channel, campaign_type, has_offers, has_experiment,
            campaign_id || '_x' || cast(execution_number + 1 as varchar) as execution_id,
            getvariable('start_ts') + to_seconds(cast({rand("exstart", "n * 10 + execution_number")} * getvariable('span_seconds') as bigint))
                as execution_started_at
        from expanded
        """
    )


def create_messages(con: duckdb.DuckDBPyConnection, messages: int, profiles: int) -> None:
    """One row per message, each in a random execution, with its random draws."""
    executions = con.execute("select count(*) from execution_rows").fetchone()[0]
    con.execute(
        f"""
        create temp table message_rows as
        select
            m.range as n,
            e.campaign_id, e.execution_id, e.channel, e.has_offers, e.has_experiment,
            'msg_' || cast(m.range as varchar) as message_id,
            cast(hash(getvariable('seed'), 'profile', m.range) % {profiles} as bigint) as profile_number,
            e.execution_started_at + to_seconds(cast({rand("send", "m.range")} * 3600 as bigint)) as sent_at,
            {rand("outcome", "m.range")} as r_outcome,
            {rand("post", "m.range")} as r_post,
            {rand("track", "m.range")} as r_track,
            {rand("track2", "m.range")} as r_track2,
            {rand("track3", "m.range")} as r_track3
        from range({messages}) as m
        inner join execution_rows as e
            on e.execution_index = hash(getvariable('seed'), 'execution', m.range) % {executions}
        """
    )


def create_message_attributes(con: duckdb.DuckDBPyConnection) -> None:
    """Each message's profile, address, platform, outcome and path after the send."""
    domains = (
        "['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.fr', 'orange.fr', 'free.fr', "
        "'example.org', 'company.co.uk']"
    )
    # A content experiment assigns each profile once per campaign (sticky across its
    # executions): 10% held out, then treatments A and B half and half; 1% of messages go
    # out with the other treatment (a profile seen in two treatments). Treatment B lifts the
    # opens and clicks by the chosen lift: its engagement draw is divided by 1 + lift.
    con.execute(
        f"""
        create temp table message_arms as
        select
            *,
            case when has_experiment then 'exp_' || campaign_id end as experiment_id,
            case when has_experiment then
                case
                    when (hash(getvariable('seed'), 'arm', campaign_id, profile_number) % 1000) < 100 then 'holdout'
                    when ((hash(getvariable('seed'), 'arm', campaign_id, profile_number) % 1000) < 550)
                        <> ({rand("swap", "n")} < 0.01) then 'trt_a'
                    else 'trt_b'
                end
            end as arm
        from message_rows
        """
    )
    con.execute(
        f"""
        create temp table message_attributes as
        select
            *,
            case when has_experiment then 'Subject line test (' || campaign_id || ')' end as experiment_name,
            case when arm in ('trt_a', 'trt_b') then arm end as treatment_id,
            case arm when 'trt_a' then 'Treatment A' when 'trt_b' then 'Treatment B' end as treatment_name,
            case when arm = 'trt_b' then r_track / (1 + getvariable('experiment_lift')) else r_track end as r_engage,
            'prof_' || cast(profile_number as varchar) as profile_id,
            case channel
                when 'email' then 'user.' || cast(profile_number as varchar) || '@'
                    || {domains}[1 + cast(hash(getvariable('seed'), 'domain', profile_number) % 10 as int)]
                when 'sms' then '+336' || lpad(cast(profile_number % 100000000 as varchar), 8, '0')
                when 'push' then md5(cast(profile_number as varchar)) || md5(cast(profile_number + 1 as varchar))
                when 'direct_mail' then cast(profile_number % 200 + 1 as varchar) || ' rue de la Paix, 75002 Paris'
            end as recipient_address,
            case
                when channel = 'push' then ['ios', 'android', 'web'][1 + cast(hash(getvariable('seed'), 'platform', profile_number) % 3 as int)]
                when channel = 'inapp' then ['ios', 'android'][1 + cast(hash(getvariable('seed'), 'platform', profile_number) % 2 as int)]
                when channel = 'web' then 'web'
            end as platform,
            case
                when arm = 'holdout' or r_outcome < 0.02 then 'excluded'
                when r_outcome < 0.03 then 'error'
                else 'sent'
            end as outcome,
            -- after the send: delivered, bounce, or a retry that delivers, bounces or stays queued
            case
                when channel = 'direct_mail' then case when r_post < 0.97 then 'delivered' else 'none' end
                when r_post < 0.97 then 'delivered'
                when r_post < 0.985 then 'bounce'
                when r_post < 0.9925 then 'retry_delivered'
                when r_post < 0.99625 then 'retry_bounce'
                else 'retry_queued'
            end as path
        from message_arms
        """
    )


def create_feedback(con: duckdb.DuckDBPyConnection) -> None:
    """Feedback events: one outcome per message, then the post-send events."""
    con.execute(
        """
        create temp table feedback as
        with outcome_events as (
            select *, outcome as status, sent_at as ts, 0 as step,
                case
                    when arm = 'holdout' then 'holdout'
                    when outcome = 'excluded' then ['suppressed', 'denylisted', 'missing_address', 'invalid_address',
                        'consent_missing', 'frequency_capped', 'duplicate'][1 + cast(r_track * 7 as int)]
                    when outcome = 'error' then ['technical_error', 'invalid_address', 'not_connected', 'refused'][1 + cast(r_track * 4 as int)]
                end as reason,
                case when outcome = 'error' and r_track2 < 0.5 then 'ignored' end as failure_type
            from message_attributes
        ),
        post_events as (
            select m.*, p.status, m.sent_at + to_seconds(p.delay) as ts, p.step, p.reason, p.failure_type
            from message_attributes as m,
            lateral (
                select * from (values
                    ('delivered', 5 + cast(m.r_track3 * 60 as bigint), 1, null, null, m.path = 'delivered'),
                    ('bounce', case when m.r_track3 < 0.3 then 3600 + cast(m.r_track3 * 36000 as bigint) else 30 end, 1,
                        case when m.r_track2 < 0.5 then ['user_unknown', 'invalid_domain', 'account_disabled'][1 + cast(m.r_track * 3 as int)]
                             when m.r_track2 < 0.85 then ['mailbox_full', 'unreachable', 'refused'][1 + cast(m.r_track * 3 as int)]
                             else ['technical_error', 'not_connected'][1 + cast(m.r_track * 2 as int)] end,
                        case when m.r_track2 < 0.5 then 'hard' when m.r_track2 < 0.85 then 'soft' else 'ignored' end,
                        m.path = 'bounce'),
                    ('retry', 300, 1, 'mailbox_full', 'soft', m.path like 'retry%'),
                    ('retry', 1800, 2, 'mailbox_full', 'soft', m.path = 'retry_queued' and m.r_track < 0.5),
                    ('delivered', 7200, 3, null, null, m.path = 'retry_delivered'),
                    ('bounce', 14400, 3, 'mailbox_full', 'soft', m.path = 'retry_bounce')
                ) as v (status, delay, step, reason, failure_type, keep)
                where keep
            ) as p
            where m.outcome = 'sent'
        )
        select campaign_id, execution_id, message_id, profile_id, channel, status, failure_type, reason,
               recipient_address, platform, ts, n, step, experiment_id, experiment_name, treatment_id, treatment_name
        from outcome_events
        union all
        select campaign_id, execution_id, message_id, profile_id, channel, status, failure_type, reason,
               recipient_address, platform, ts, n, step, experiment_id, experiment_name, treatment_id, treatment_name
        from post_events
        """
    )


def create_tracking(con: duckdb.DuckDBPyConnection) -> None:
    """Tracking: only delivered (or still-trackable) messages; counts per interaction per channel."""
    con.execute(
        f"""
        create temp table tracking as
        with trackable as (
            select *,
                case when channel = 'email' and r_engage < 0.25 then 1 + cast(r_track2 * 4 as int) else 0 end as n_open,
                case when channel = 'email' and (r_engage < 0.032 or (r_engage > 0.25 and r_engage < 0.258)) then 1 + cast(r_track3 * 2 as int)
                     when channel = 'sms' and r_track < 0.03 then 1
                     when channel = 'inapp' and r_track < 0.10 then 1
                     when channel = 'web' and r_track < 0.08 then 1 + cast(r_track3 * 2 as int)
                     else 0 end as n_click,
                case when channel in ('email', 'sms') and r_track2 > 0.995 then 1 else 0 end as n_unsubscribe,
                case when channel = 'email' and r_track2 between 0.3 and 0.3005 then 1 else 0 end as n_spam_complaint,
                case when channel = 'email' and r_track3 < 0.005 then 1 else 0 end as n_mirror_page,
                case when channel = 'email' and r_track3 > 0.997 then 1 else 0 end as n_forward,
                case when channel = 'push' and r_track < 0.08 then 1 + cast(r_track2 * 2 as int) else 0 end as n_push_open,
                case when channel = 'push' and r_track > 0.97 then 1 else 0 end as n_action,
                case when channel in ('inapp', 'web') and r_track2 < (case when channel = 'inapp' then 0.6 else 0.7 end)
                     then 1 + cast(r_track3 * 3 as int) else 0 end as n_impression,
                case when channel = 'inapp' and r_track3 < 0.2 then 1 else 0 end as n_dismiss,
                case when channel in ('inapp', 'web') and r_track > 0.95 then 1 else 0 end as n_interaction,
                -- machines: a privacy proxy fetching the images seconds after the send, a
                -- security scanner following three links in one second
                case when channel = 'email' and r_track2 >= 0.5 and r_track2 < 0.58 then 1 else 0 end as n_proxy_open,
                case when channel = 'email' and r_track3 >= 0.4 and r_track3 < 0.41 then 3 else 0 end as n_scan_click
            from message_attributes
            where outcome = 'sent' and path in ('delivered', 'retry_delivered')
        ),
        counted as (
            select *, unnest([
                {{'interaction': 'open', 'k': n_open}},
                {{'interaction': 'click', 'k': n_click}},
                {{'interaction': 'unsubscribe', 'k': n_unsubscribe}},
                {{'interaction': 'spam_complaint', 'k': n_spam_complaint}},
                {{'interaction': 'mirror_page', 'k': n_mirror_page}},
                {{'interaction': 'forward', 'k': n_forward}},
                {{'interaction': 'open', 'k': n_push_open}},
                {{'interaction': 'action', 'k': n_action}},
                {{'interaction': 'impression', 'k': n_impression}},
                {{'interaction': 'dismiss', 'k': n_dismiss}},
                {{'interaction': 'interaction', 'k': n_interaction}},
                {{'interaction': 'proxy_open', 'k': n_proxy_open}},
                {{'interaction': 'scan_click', 'k': n_scan_click}}
            ]) as spec
            from trackable
            where n_open + n_click + n_unsubscribe + n_spam_complaint + n_mirror_page + n_forward + n_push_open
                + n_action + n_impression + n_dismiss + n_interaction + n_proxy_open + n_scan_click > 0
        ),
        expanded as (
            select *, spec.interaction as interaction, unnest(range(spec.k)) as repeat_number
            from counted
            where spec.k > 0
        )
        select
            campaign_id, execution_id, message_id, profile_id, channel,
            case interaction when 'proxy_open' then 'open' when 'scan_click' then 'click' else interaction end as interaction, n,
            -- the machines' events numbered after the others, whose ids stay as they were
            row_number() over (partition by n order by interaction in ('proxy_open', 'scan_click'), interaction, repeat_number) as step,
            case interaction
                when 'proxy_open' then sent_at + to_seconds(1 + cast({rand("tproxy", "n")} * 7 as bigint))
                when 'scan_click' then sent_at + to_seconds(90) + to_microseconds(repeat_number * 100000)
                -- most reactions within hours; repeats and a few opens days later
                else sent_at + to_seconds(60 + cast({rand("tdelay", "n * 100 + repeat_number + length(interaction)")} *
                    case when repeat_number > 0 then 259200 else 14400 end as bigint))
            end as ts,
            case
                when interaction = 'scan_click' then
                    'https://shop.example.com/' || campaign_id || '/link-' || cast(repeat_number + 1 as varchar)
                when interaction = 'click' then
                    'https://shop.example.com/' || campaign_id || '/link-' ||
                    cast(cast(pow({rand("url", "n * 7 + repeat_number")}, 2) * 15 as int) + 1 as varchar)
            end as url,
            case
                when channel = 'push' and interaction = 'action' then ['btn_open_app', 'btn_view_offer', 'btn_later'][1 + cast(r_track3 * 3 as int)]
                when channel in ('inapp', 'web') and interaction in ('click', 'interaction', 'dismiss', 'impression')
                    then ['hero_banner', 'cta_button', 'nav_menu', 'close_button'][1 + cast({rand("el", "n * 13 + repeat_number")} * 4 as int)]
            end as element_id,
            case when interaction = 'click' and has_offers and r_track3 < 0.6
                then 'offer_' || lpad(cast(hash(getvariable('seed'), 'offer', n, 0) % 20 + 1 as varchar), 3, '0') end as offer_id,
            platform,
            -- the platform flags some machine opens and clicks itself (its email tracking
            -- dataset, which holds the SMS clicks too, has the flag; push tracking has none)
            case when channel in ('email', 'sms') and interaction in ('open', 'click') and {rand("bot", "n * 5 + repeat_number")} < 0.02 then 'true'
                 when channel in ('email', 'sms') and interaction in ('open', 'click') and {rand("bot", "n * 5 + repeat_number")} < 0.04 then 'false'
            end as is_bot,
            case when interaction in ('proxy_open', 'scan_click') then 'Mozilla/5.0'
                 when {rand("ua", "n * 3 + repeat_number")} < 0.05 then 'Mozilla/5.0 (compatible; LinkScanner/2.1; bot)'
                 when platform = 'ios' then 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)'
                 when platform = 'android' then 'Mozilla/5.0 (Linux; Android 15)'
                 else 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' end as user_agent
        from expanded
        """
    )


def create_propositions(con: duckdb.DuckDBPyConnection) -> None:
    """Offer propositions: one to three offers per sent message of a campaign that places offers."""
    con.execute(
        """
        create temp table propositions as
        select campaign_id, execution_id, message_id, profile_id, channel, n, offer_number as step, sent_at as ts,
               'offer_' || lpad(cast(hash(getvariable('seed'), 'offer', n, offer_number) % 20 + 1 as varchar), 3, '0') as offer_id
        from (
            select *, unnest(range(1 + cast(r_track2 * 3 as int))) as offer_number
            from message_attributes
            where has_offers and outcome = 'sent'
        )
        """
    )
