"""The logical events (tally.generate.events) as raw rows: event ids, arrival times (some
late), duplicates (at-least-once delivery), contract-breaking rows of every kind, and the
campaigns file. Temp tables out_feedback, out_tracking, out_propositions, out_campaigns."""

from __future__ import annotations

import duckdb

from tally.generate.events import rand, ts_text

BAD_ROW_KINDS = [
    "missing_event_id",
    "missing_message_id",
    "missing_campaign_id",
    "unparseable_event_ts",
    "impossible_date",
    "far_future_event_ts",
    "invalid_channel",
    "invalid_status",
    "bounce_without_failure_type",
    "excluded_without_reason",
    "invalid_failure_type",
    "invalid_interaction",
    "sms_open",
    "direct_mail_tracking",
    "proposition_without_offer",
    "conflicting_duplicate",
]


def noisy(column: str, salt: str, key: str) -> str:
    """Real exports mix case and pad values: valid per the contract, normalised by staging."""
    return (
        f"case when {rand(salt, key)} < 0.01 then upper({column}) "
        f"when {rand(salt, key)} < 0.02 then ' ' || {column} || ' ' else {column} end"
    )


def assemble(con: duckdb.DuckDBPyConnection) -> None:
    """Turns the logical events into raw rows: ids, arrival times, duplicates, bad rows."""
    add_ids_and_arrivals(con)
    create_raw_rows(con)
    add_bad_rows(con)
    create_campaign_rows(con)


def add_ids_and_arrivals(con: duckdb.DuckDBPyConnection) -> None:
    """Event ids, arrival times (1% of events hours or days late) and the draw for duplicates."""
    arrival = (
        "ts + to_seconds(case when {late} < 0.01 then 3600 + cast({late2} * 255600 as bigint) "
        "else 1 + cast({late2} * 120 as bigint) end)"
    )
    for name, source, prefix in [("fb", "feedback", "fb"), ("tr", "tracking", "tr"), ("op", "propositions", "op")]:
        key = "n * 16 + step"
        con.execute(
            f"""
            create temp table {name}_rows as
            select
                *,
                '{prefix}-' || cast(n as varchar) || '-' || cast(step as varchar) || '-'
                    || lpad(cast(row_number() over (partition by n, step order by ts) as varchar), 2, '0') as event_id,
                {arrival.format(late=rand(prefix + "late", key), late2=rand(prefix + "late2", key))} as arrived_at,
                {rand(prefix + "dup", key)} as r_dup
            from {source}
            """
        )


def create_raw_rows(con: duckdb.DuckDBPyConnection) -> None:
    """The raw rows of each event table, noisy as real exports are, plus duplicates
    (the same event again, later: at-least-once delivery)."""
    con.execute(
        f"""
        create temp table out_feedback as
        select event_id, {ts_text("ts")} as event_ts, {ts_text("arrived_at")} as ingested_at, campaign_id, execution_id,
               message_id, profile_id, {noisy("channel", "fbc", "n")} as channel, {noisy("status", "fbs", "n * 16 + step")} as status,
               case when failure_type is not null then {noisy("failure_type", "fbf", "n")} end as failure_type,
               reason, recipient_address, platform, experiment_id, experiment_name, treatment_id, treatment_name
        from fb_rows
        union all
        -- duplicates: the same event again, later (at-least-once delivery)
        select event_id, {ts_text("ts")}, {ts_text("arrived_at + to_seconds(cast(r_dup * 100000000 as bigint) % 86400 + 60)")},
               campaign_id, execution_id, message_id, profile_id, channel, status, failure_type, reason, recipient_address, platform,
               experiment_id, experiment_name, treatment_id, treatment_name
        from fb_rows where r_dup < 0.005
        """
    )
    con.execute(
        f"""
        create temp table out_tracking as
        select event_id, {ts_text("ts")} as event_ts, {ts_text("arrived_at")} as ingested_at, campaign_id, execution_id,
               message_id, profile_id, {noisy("channel", "trc", "n")} as channel, {noisy("interaction", "tri", "n * 16 + step")} as interaction,
               url, element_id, offer_id, platform, user_agent, is_bot
        from tr_rows
        union all
        select event_id, {ts_text("ts")}, {ts_text("arrived_at + to_seconds(cast(r_dup * 100000000 as bigint) % 172800 + 60)")},
               campaign_id, execution_id, message_id, profile_id, channel, interaction, url, element_id, offer_id, platform, user_agent,
               is_bot
        from tr_rows where r_dup < 0.005
        """
    )
    con.execute(
        f"""
        create temp table out_propositions as
        select event_id, {ts_text("ts")} as event_ts, {ts_text("arrived_at")} as ingested_at, campaign_id, execution_id,
               message_id, profile_id, channel, offer_id
        from op_rows
        union all
        select event_id, {ts_text("ts")}, {ts_text("arrived_at + to_seconds(3600)")}, campaign_id, execution_id,
               message_id, profile_id, channel, offer_id
        from op_rows where r_dup < 0.005
        """
    )


def add_bad_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Contract-breaking rows: a fixed kind per bad row, at least one of each kind, ~0.1%."""
    kinds = "[" + ", ".join(f"'{k}'" for k in BAD_ROW_KINDS) + "]"
    con.execute(
        f"""
        create temp table bad_base as
        select *, {kinds}[1 + cast(row_number() over (order by n, step) - 1 as int) % {len(BAD_ROW_KINDS)}] as kind
        from (
            select * from fb_rows
            where {rand("bad", "n * 16 + step")} < 0.001 or n < 12
        )
        """
    )
    con.execute(
        f"""
        insert into out_feedback
        select
            case when kind = 'missing_event_id' then '' when kind = 'conflicting_duplicate' then event_id else 'bad-' || event_id end,
            case kind when 'unparseable_event_ts' then 'not-a-date' when 'impossible_date' then '2026-13-45 10:00:00'
                      when 'far_future_event_ts' then '2099-01-01 00:00:00' else {ts_text("ts")} end,
            {ts_text("arrived_at + to_seconds(7200)")},
            case when kind = 'missing_campaign_id' then null else campaign_id end,
            execution_id,
            case when kind = 'missing_message_id' then '   ' else message_id end,
            profile_id,
            case when kind = 'invalid_channel' then 'fax' else channel end,
            case kind when 'invalid_status' then 'lost' when 'bounce_without_failure_type' then 'bounce'
                      when 'excluded_without_reason' then 'excluded'
                      when 'conflicting_duplicate' then case when status = 'delivered' then 'bounce' else 'delivered' end
                      else status end,
            case kind when 'invalid_failure_type' then 'medium' when 'bounce_without_failure_type' then null
                      when 'conflicting_duplicate' then 'soft' else failure_type end,
            case when kind = 'excluded_without_reason' then null when kind = 'conflicting_duplicate' then 'refused' else reason end,
            recipient_address, platform, experiment_id, experiment_name, treatment_id, treatment_name
        from bad_base
        where kind not in ('invalid_interaction', 'sms_open', 'direct_mail_tracking', 'proposition_without_offer')
        """
    )
    con.execute(
        f"""
        insert into out_tracking
        select 'bad-' || event_id || '-' || kind, {ts_text("ts")}, {ts_text("arrived_at + to_seconds(7200)")}, campaign_id,
               execution_id, message_id, profile_id,
               case kind when 'sms_open' then 'sms' when 'direct_mail_tracking' then 'direct_mail' else channel end,
               case kind when 'invalid_interaction' then 'teleport' when 'sms_open' then 'open' else 'click' end,
               null, null, null, platform, null, null
        from bad_base
        where kind in ('invalid_interaction', 'sms_open', 'direct_mail_tracking')
        """
    )
    con.execute(
        f"""
        insert into out_propositions
        select 'bad-' || event_id, {ts_text("ts")}, {ts_text("arrived_at")}, campaign_id, execution_id, message_id,
               profile_id, channel, null
        from bad_base where kind = 'proposition_without_offer'
        """
    )


def create_campaign_rows(con: duckdb.DuckDBPyConnection) -> None:
    """The campaigns file: every campaign but two, which are only known from their events."""
    con.execute(
        f"""
        create temp table out_campaigns as
        select campaign_id,
               upper(channel) || ' ' || replace(campaign_type, '_', ' ') || ' campaign #' || cast(n as varchar) as campaign_name,
               campaign_type,
               {ts_text("getvariable('start_ts') - to_seconds(86400 * 3)")} as created_at
        from campaign_rows
        -- two campaigns are only known from their events
        where n not in (7, 11)
        """
    )
