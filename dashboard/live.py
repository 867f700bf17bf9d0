"""Live report: the last 24 hours of one campaign, the Campaign tab and one tab per channel,
as the platform's campaign live report lays them out (docs/widget-map.md gives each
widget's relation and query). Re-reads the newest publish every 2 minutes."""

from __future__ import annotations

import streamlit as st

import data
import widgets as w
from banner import alerts_banner, freshness
from experiment_panel import experiment_panel

REFRESH_SECONDS = 120


def campaign_tab(campaign: str) -> None:
    docs = data.column_docs("live_campaign_statistics")
    row = data.one("select * from marts.live_campaign_statistics where campaign_id = ?", [campaign])
    w.section("Campaign statistics")
    w.kpi_tiles(row, ["audience", "profiles_entered", "actions_performed", "errors"], docs)
    tabs = data.query(
        f"select channel, executions, targeted, sent, delivered, bounces, errors, {', '.join(w.activity(['opens', 'clicks']))}, "
        "impressions, interactions, engagements from marts.live_channel_statistics where campaign_id = ? order by channel",
        [campaign],
    )
    w.section("By channel")
    w.table(tabs, data.column_docs("live_channel_statistics"))


# A UTC hour as wall-clock time in the chosen zone (bound as the first parameter), in SQL.
LOCAL_HOUR = "timezone(?, timezone('UTC', hour_start))"


def hourly(campaign: str, channel: str, columns: list[str], title: str) -> None:
    columns = w.activity(columns)
    zone = w.zone()
    frame = data.query(
        f"select {LOCAL_HOUR} as hour_start, {', '.join(columns)} from marts.live_channel_timeseries "
        "where campaign_id = ? and channel = ? order by hour_start",
        [zone, campaign, channel],
    )
    w.section(title, f"Per clock hour of the last 24 hours ({zone}).")
    w.line_chart(frame, "hour_start", columns, f"hour ({zone})")


def executions(campaign: str, channel: str, columns: list[str], title: str) -> None:
    """The per-execution table, with the pages' "Heure d'exécution" filter: pick one or more
    executions by their start time (in the sidebar's zone); none picked shows them all."""
    columns = w.activity(columns)
    zone = w.zone()
    frame = data.query(
        f"select execution_id, timezone(?, timezone('UTC', execution_started_at)) as execution_started_at, is_sent_in_window, "
        f"{', '.join(columns)} from marts.live_delivery_statistics where campaign_id = ? and channel = ? "
        "order by execution_started_at",
        [zone, campaign, channel],
    )
    w.section(title, f"One row per execution (a run of a recurring message); start times in {zone}.")
    starts = {
        row["execution_id"]: f"{row['execution_started_at']:%Y-%m-%d %H:%M} · {row['execution_id']}"
        for row in frame.to_dict("records")
    }
    picked = st.multiselect(
        "Execution time",
        list(starts),
        format_func=starts.get,
        key=f"executions_{channel}",
        placeholder="All executions",
    )
    w.table(frame[frame["execution_id"].isin(picked)] if picked else frame, data.column_docs("live_delivery_statistics"))


def reasons(campaign: str, channel: str, kind: str, title: str) -> None:
    frame = data.query(
        "select reason, reason_label, failure_type, events, share_of_kind from marts.live_channel_reasons "
        "where campaign_id = ? and channel = ? and reason_kind = ? order by events desc",
        [campaign, channel, kind],
    )
    w.section(title)
    if frame.empty:
        w.empty(f"No {kind} in the last 24 hours.")
        return
    w.chart_beside_table(frame, "reason_label", "events", data.column_docs("live_channel_reasons"))


def email_tab(campaign: str, tiles: dict, docs: dict) -> None:
    w.kpi_tiles(
        tiles, w.activity(["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "opens", "clicks"]), docs
    )
    hourly(campaign, "email", ["delivered", "bounces", "retries", "errors"], "Sending performance")
    executions(
        campaign,
        "email",
        [
            "targeted",
            "excluded",
            "sent",
            "delivered",
            "bounces",
            "errors",
            "opens",
            "clicks",
            "unsubscriptions",
            "spam_complaints",
            "retries",
        ],
        "Email statistics",
    )
    w.section("Bounce categories")
    w.kpi_tiles(tiles, ["hard_bounces", "soft_bounces", "ignored_bounces"], docs)
    bounces_by_email(campaign)
    reasons(campaign, "email", "bounce", "Bounce reasons")
    hourly(
        campaign,
        "email",
        ["sent", "delivered", "bounces", "errors", "opens", "clicks", "unsubscriptions", "spam_complaints"],
        "Performance by date",
    )
    reasons(campaign, "email", "error", "Error reasons")
    reasons(campaign, "email", "exclusion", "Exclusion reasons")
    opens = w.one_activity("opens")
    domains = data.query(
        f"select recipient_domain, cast(sum(openers) as bigint) as openers, cast(sum({opens}) as bigint) as {opens}, "
        "cast(sum(delivered) as bigint) as delivered from marts.live_recipient_domains where campaign_id = ? "
        "group by recipient_domain order by openers desc, recipient_domain limit 10",
        [campaign],
    )
    w.section("Best recipient domains", "The domains recipients most open from: distinct openers per domain.")
    if domains.empty:
        w.empty("No email activity by domain in the last 24 hours.")
    else:
        w.bar_chart(domains, "recipient_domain", "openers")
        w.table(domains, data.column_docs("live_recipient_domains"))
    impressions, clicks = w.activity(["offer_impressions", "offer_clicks"])
    offer_sums = (
        f"cast(sum(offers_sent) as bigint) as offers_sent, cast(sum({impressions}) as bigint) as {impressions}, "
        f"cast(sum({clicks}) as bigint) as {clicks}"
    )
    offers = data.query(
        f"select offer_id, {offer_sums} from marts.live_offers where campaign_id = ? group by offer_id order by offer_id",
        [campaign],
    )
    if not offers.empty:  # the platform shows offers only where a decision was placed
        w.section("Offer statistics")
        w.table(offers, data.column_docs("live_offers"))
        over_time = data.query(
            f"select {LOCAL_HOUR} as hour_start, {offer_sums} from marts.live_offers where campaign_id = ? "
            "group by hour_start order by hour_start",
            [w.zone(), campaign],
        )
        w.line_chart(over_time, "hour_start", ["offers_sent", impressions, clicks], f"hour ({w.zone()})")


def bounces_by_email(campaign: str) -> None:
    """ "Hard bounce et bounce - par e-mail" (001 §email-live): each email of the campaign
    (an execution) with its bounces by category."""
    frame = data.query(
        "select execution_id, execution_started_at, sent, bounces, hard_bounces, soft_bounces, ignored_bounces, bounce_rate "
        "from marts.live_delivery_statistics where campaign_id = ? and channel = 'email' and bounces > 0 "
        "order by bounces desc, execution_started_at",
        [campaign],
    )
    w.section("Hard bounces and bounces by email", "Each email (execution) with bounces in the last 24 hours, by category.")
    if frame.empty:
        w.empty("No email bounced in the last 24 hours.")
        return
    w.chart_beside_table(frame, "execution_id", "hard_bounces", data.column_docs("live_delivery_statistics"))


def interactions(campaign: str, channel: str, title: str, by_element: bool) -> None:
    grouping = "element_id, interaction" if by_element else "interaction"
    frame = data.query(
        f"select {grouping}, cast(sum(events) as bigint) as events, cast(sum(unique_messages) as bigint) as unique_messages "
        f"from marts.live_interactions where campaign_id = ? and channel = ? and interaction != 'impression' "
        f"group by {grouping} order by events desc",
        [campaign, channel],
    )
    w.section(title)
    if frame.empty:
        w.empty("No interactions in the last 24 hours.")
        return
    if not by_element:
        w.bar_chart(frame, "interaction", "events")
    w.table(frame, data.column_docs("live_interactions"))


def inapp_tab(campaign: str, tiles: dict, docs: dict) -> None:
    w.kpi_tiles(tiles, ["impressions", "unique_impressions", "interactions", "channel_reactivity"], docs)
    hourly(campaign, "inapp", ["impressions", "interactions"], "In-app summary")
    interactions(campaign, "inapp", "Interactions by type", by_element=False)


def push_tab(campaign: str, tiles: dict, docs: dict) -> None:
    # Délivrés and Rebonds "par rapport au nombre total de messages envoyés" (002, 003 §push-sending-summary).
    w.kpi_tiles(
        tiles,
        w.activity(["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "opens", "actions", "engagements"]),
        docs,
    )
    w.kpi_tiles(tiles, ["unique_channel_clicks", "channel_reactivity"], docs)
    hourly(campaign, "push", ["delivered", "bounces", "errors"], "Sending performance")
    executions(campaign, "push", ["targeted", "excluded", "sent", "delivered", "bounces", "errors", "opens"], "Push statistics")
    hourly(campaign, "push", ["opens", "actions", "engagements", "bounces", "delivered", "errors"], "Sending summary")
    w.section("Sending statistics: failures")
    w.kpi_tiles(tiles, ["errors", "bounces"], docs)
    reasons(campaign, "push", "exclusion", "Exclusion reasons")
    reasons(campaign, "push", "error", "Error reasons")
    opens = w.one_activity("opens")
    platforms = data.query(
        "select platform, cast(sum(targeted) as bigint) as targeted, cast(sum(delivered) as bigint) as delivered, "
        f"cast(sum({opens}) as bigint) as {opens}, cast(sum(actions) as bigint) as actions, cast(sum(bounces) as bigint) "
        "as bounces, cast(sum(errors) as bigint) as errors, cast(sum(excluded) as bigint) as excluded "
        "from marts.live_platform_breakdown where campaign_id = ? and channel = 'push' group by platform order by platform",
        [campaign],
    )
    w.section("Breakdown by platform")
    w.bar_chart(platforms, "platform", "delivered")
    w.table(platforms, data.column_docs("live_platform_breakdown"))
    interactions(campaign, "push", "Actions by button", by_element=True)


def sms_tab(campaign: str, tiles: dict, docs: dict) -> None:
    # Délivrés "par rapport au nombre total de messages envoyés" (004, SMS).
    w.kpi_tiles(
        tiles,
        w.activity(["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "clicks", "channel_reactivity"]),
        docs,
    )
    # "Ciblés": "profils ... qualifiés en tant que profils cibles" (003 §sms-statistics): profiles, `audience`.
    executions(campaign, "sms", ["audience", "excluded", "sent", "bounces", "errors", "clicks"], "SMS statistics")
    hourly(campaign, "sms", ["sent", "bounces", "errors"], "Performance by date")
    reasons(campaign, "sms", "error", "Error reasons")
    reasons(campaign, "sms", "exclusion", "Exclusion reasons")
    reasons(campaign, "sms", "bounce", "Bounce reasons")


def web_tab(campaign: str, tiles: dict, docs: dict) -> None:
    w.kpi_tiles(tiles, ["impressions", "unique_impressions", "interactions", "channel_reactivity"], docs)
    hourly(campaign, "web", ["impressions", "unique_impressions", "interactions"], "Web summary")
    interactions(campaign, "web", "Interactions by element", by_element=True)


def direct_mail_tab(campaign: str, tiles: dict, docs: dict) -> None:
    # "Ciblés": "profils de personnes qui sont qualifiés en tant que profils cibles" (003 §direct-mail-sending).
    w.kpi_tiles(tiles, ["audience", "sent", "errors", "excluded"], docs)
    executions(campaign, "direct_mail", ["audience", "sent", "errors", "excluded"], "Sending statistics")
    reasons(campaign, "direct_mail", "error", "Error reasons")
    reasons(campaign, "direct_mail", "exclusion", "Exclusion reasons")


CHANNEL_TABS = {
    "email": email_tab,
    "inapp": inapp_tab,
    "push": push_tab,
    "sms": sms_tab,
    "web": web_tab,
    "direct_mail": direct_mail_tab,
}


@st.fragment(run_every=REFRESH_SECONDS)
def live_report() -> None:
    if not data.is_published():
        w.empty(f"Nothing published yet at {data.serving_file()}: run `make demo`, then reload.")
        return
    alerts_banner()
    freshness()
    campaigns = data.query(
        "select campaign_id, campaign_name from marts.live_campaign_statistics order by targeted desc, campaign_id"
    )
    if campaigns.empty:
        w.empty("No events in the last 24 hours: no campaign to report on. Events count once they are 2 minutes old.")
        return
    campaign, campaign_name = w.campaign_picker(campaigns, "live_campaign")
    docs = data.column_docs("live_channel_statistics")
    tab_rows = data.query("select * from marts.live_channel_statistics where campaign_id = ?", [campaign])
    tiles_by_channel = {row["channel"]: row for row in tab_rows.to_dict("records")}
    tabs = st.tabs(["Campaign", *data.CHANNELS.values(), "Experimentation"])
    with tabs[0]:
        campaign_tab(campaign)
    with tabs[-1]:
        experiment_panel(campaign, "live_experiments")
    for tab, (channel, title) in zip(tabs[1:-1], data.CHANNELS.items(), strict=True):
        with tab:
            if channel not in tiles_by_channel:
                w.empty(f"{campaign_name} has no {title} events in the last 24 hours (channel not used in the window).")
                continue
            CHANNEL_TABS[channel](campaign, tiles_by_channel[channel], docs)


st.title("Live report", help="The last 24 hours, events at least 2 minutes old; refreshed every 2 minutes.")
live_report()
