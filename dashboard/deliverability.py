"""Deliverability: what a deliverability team checks beyond the platform's report pages.
The suppression list now (marts.suppression_list), its daily flow over any range
(period_suppression_daily_between) and the messages each delivery did not send because
their address was suppressed (period_suppression_exclusions_between)."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

import data
import widgets as w
from banner import alerts_banner


def suppression_now() -> None:
    w.section(
        "Suppression list now", "Addresses (hashed) that their events leave suppressed; each row of the list is one address."
    )
    totals = data.one(
        "select count(*) as suppressed, count(*) filter (where state = 'quarantined') as quarantined, "
        "count(*) filter (where state = 'denylisted') as denylisted from marts.suppression_list"
    )
    docs = {
        "suppressed": "Addresses on the suppression list now (marts.suppression_list).",
        "quarantined": "Suppressed by a hard bounce or by consecutive soft errors.",
        "denylisted": "Suppressed by a spam complaint.",
    }
    w.kpi_tiles(totals or {}, ["suppressed", "quarantined", "denylisted"], docs)
    by_rule = data.query(
        "select channel, state, suppression_category, suppression_rule, reason, count(*) as addresses, "
        "min(suppressed_since) as first_suppressed, max(suppressed_since) as last_suppressed "
        "from marts.suppression_list group by all order by addresses desc, channel, reason"
    )
    if by_rule.empty:
        w.empty("No address is suppressed.")
    else:
        w.table(by_rule, data.column_docs("suppression_list"))


def suppression_flow(bounds: data.Bounds) -> None:
    daily = data.query(
        "select day, cast(sum(newly_suppressed) as bigint) as newly_suppressed, cast(sum(released) as bigint) as released, "
        "cast(sum(suppressed_at_day_end) as bigint) as suppressed_at_day_end "
        "from marts.period_suppression_daily_between(?, ?, report_timezone := ?) group by day order by day",
        list(bounds),
    )
    w.section(
        "Suppressions per day",
        f"Calendar days in {bounds[2]}: addresses newly suppressed, released (sent to again), suppressed at the day's end.",
    )
    if daily.empty:
        w.empty("No suppression began, lasted or ended in the period.")
        return
    w.line_chart(daily, "day", ["newly_suppressed", "released", "suppressed_at_day_end"], f"day ({bounds[2]})")
    domains = data.query(
        "select channel, recipient_domain, cast(sum(newly_suppressed) as bigint) as newly_suppressed, "
        "cast(sum(released) as bigint) as released, "
        "cast(max(suppressed_at_day_end) filter (where day = ?) as bigint) as suppressed_at_end "
        "from marts.period_suppression_daily_between(?, ?, report_timezone := ?) group by channel, recipient_domain "
        "order by newly_suppressed desc, suppressed_at_end desc",
        [daily["day"].max(), *bounds],
    )
    w.section("Per domain", "Email domains (other channels: unknown), over the period.")
    w.table(domains, data.column_docs("period_suppression_daily"))


def suppression_exclusions(bounds: data.Bounds) -> None:
    exclusions = data.query(
        "select campaign_id, execution_id, channel, excluded_for_suppression, excluded_after_hard_bounce, "
        "excluded_after_soft_errors, excluded_after_spam_complaint, excluded_unexplained, suppressed_addresses "
        "from marts.period_suppression_exclusions_between(?, ?, report_timezone := ?) order by excluded_for_suppression desc, campaign_id",
        list(bounds),
    )
    w.section(
        "Messages not sent because the address was suppressed",
        "Per delivery, by the rule that suppressed the address; unexplained: no suppression in the events covers it.",
    )
    if exclusions.empty:
        w.empty("No message was excluded for a suppressed address in the period.")
    else:
        w.table(exclusions, data.column_docs("period_suppression_exclusions"))


def deliverability() -> None:
    if not data.is_published():
        w.empty(f"Nothing published yet at {data.serving_file()}: run `make demo`, then reload.")
        return
    span = data.one("select cast(max(activity_hour) as date) as last_day from marts.fct_message_hours")
    last_day = span["last_day"] if span and span["last_day"] is not None else date.today()
    zone = w.zone()
    chosen = st.date_input(f"Period (days in {zone})", value=(last_day - timedelta(days=6), last_day), key="deliverability_dates")
    suppression_now()
    if not isinstance(chosen, tuple) or len(chosen) != 2:
        w.empty("Pick the period's last day too.")
        return
    bounds = data.period_arguments(chosen[0], chosen[1], zone)
    st.caption(f"{chosen[0]} to {chosen[1]}, calendar days in {zone}")
    suppression_flow(bounds)
    suppression_exclusions(bounds)


st.title("Deliverability", help="Suppression state: the platform's rules, docs/decisions.md (Suppression state).")
alerts_banner()
deliverability()
