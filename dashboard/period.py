"""Period report: any date range chosen here, answered at query time by the
period_*_between table functions of the published file, per delivery (one execution) or
for a whole campaign tab, section by section as the platform's period report lays them out."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import streamlit as st

import data
import widgets as w
from banner import alerts_banner

ALL_EXECUTIONS = "All executions"
COHORT = "Send cohort: executions started in the period, all their events"
EVENT_TIME = "Event time: what happened in the period"


def scope_filter(execution: str | None) -> tuple[str, list[Any]]:
    if execution is None:
        return "campaign_id = ? and channel = ?", []
    return "campaign_id = ? and channel = ? and execution_id = ?", [execution]


def summary_row(campaign: str, channel: str, execution: str | None, bounds: data.Bounds, basis: str) -> dict | None:
    if execution is None:  # a campaign tab: every execution on the channel, event time
        return data.one(
            "select * from marts.period_channel_report_between(?, ?, report_timezone := ?) where campaign_id = ? and channel = ?",
            [*bounds, campaign, channel],
        )
    function = "period_delivery_cohort_between" if basis == COHORT else "period_delivery_report_between"
    return data.one(
        f"select * from marts.{function}(?, ?, report_timezone := ?) where campaign_id = ? and channel = ? and execution_id = ?",
        [*bounds, campaign, channel, execution],
    )


def delivery_summary(row: dict, channel: str, docs: dict, reasons_frame) -> None:
    w.section("Delivery overview")
    if channel == "email":
        w.kpi_tiles(
            row,
            w.activity(["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "unique_opens", "unique_clicks"]),
            docs,
        )
    else:
        # Erreurs with their rate: over the messages to deliver, of which errors are a part
        # (the page says "par rapport au nombre total de messages envoyés"; errors are never sent).
        w.kpi_tiles(
            row,
            ["sent", "delivered", "delivered_rate", "execution_errors", "execution_error_rate", "unique_channel_clicks"],
            docs,
        )
    w.section("Initial target audience")
    w.kpi_tiles(row, ["initial_audience", "messages_to_deliver", "rejected_by_rules"], docs)
    if not reasons_frame.empty:
        w.table(reasons_frame, data.column_docs("period_non_deliverables"))
    w.section("Execution statistics")
    w.kpi_tiles(
        row,
        [
            "messages_to_deliver",
            "success",
            "success_rate",
            "execution_errors",
            "execution_error_rate",
            "new_quarantines",
            "new_quarantine_rate",
        ],
        docs,
    )
    if channel == "email":
        w.section("Reaction statistics")
        reactions = ["unique_opens", "opens", "unique_unsubscriptions", "unique_mirror_page_views", "unique_forwards"]
        w.kpi_tiles(row, w.activity(reactions), docs)
        w.section("Clickstream generated")
        w.kpi_tiles(row, w.activity(["unique_clicks", "clicks", "reactivity"]), docs)
    else:
        w.section("Clickstream generated")
        w.kpi_tiles(
            row, w.activity(["unique_channel_clicks", "clicks" if channel != "push" else "actions", "channel_reactivity"]), docs
        )


def non_deliverables(where: str, parameters: list, bounds: data.Bounds) -> None:
    by_type = data.query(
        f"select reason, reason_label, cast(sum(events) as bigint) as events from marts.period_non_deliverables_between(?, ?, report_timezone := ?) "
        f"where {where} and reason_kind in ('error', 'bounce') group by reason, reason_label order by events desc",
        [*bounds, *parameters],
    )
    w.section("Non-deliverables: errors by type")
    if by_type.empty:
        w.empty("No errors or bounces in the period.")
        return
    w.chart_beside_table(by_type, "reason_label", "events", data.column_docs("period_non_deliverables"))
    by_domain = data.query(
        f"select recipient_domain, cast(sum(events) as bigint) as events from marts.period_non_deliverables_between(?, ?, report_timezone := ?) "
        f"where {where} and reason_kind in ('error', 'bounce') group by recipient_domain order by events desc",
        [*bounds, *parameters],
    )
    w.section("Non-deliverables: errors by domain")
    w.table(by_domain, data.column_docs("period_non_deliverables"))


def tracking_indicators(row: dict, docs: dict, where: str, parameters: list, bounds: data.Bounds) -> None:
    w.section("Tracking indicators")
    w.kpi_tiles(
        row, w.activity(["success", "unique_opens", "opens", "unsubscriptions", "mirror_page_views", "estimated_forwards"]), docs
    )
    domains = data.query(
        f"select recipient_domain, cast(sum(sent) as bigint) as sent, cast(sum(spam_complaints) as bigint) as spam_complaints, "
        f"cast(sum(openers) as bigint) as openers, cast(sum(clickers) as bigint) as clickers "
        f"from marts.period_domain_statistics_between(?, ?, report_timezone := ?) where {where} group by recipient_domain order by sent desc",
        [*bounds, *parameters],
    )
    domains["recipient_raw_reactivity"] = (domains["clickers"] / domains["openers"]).where(domains["openers"] > 0)
    w.section("Per domain", "Sent, complaints, distinct openers and clickers, and raw reactivity (clickers over openers).")
    w.table(domains, data.column_docs("period_domain_statistics"))


def click_distribution(campaign: str, channel: str, execution: str | None, urls: list[str], utc_range: tuple, zone: str) -> None:
    """Clicks over time per link (the top five), per hour or per day in `zone`, from the link
    click hours over the period the functions answered (`utc_range`: their period_start and
    period_end, UTC)."""
    clicks = w.one_activity("clicks")
    grain = st.radio("Click distribution", ["Per hour", "Per day"], horizontal=True, key="click_grain")
    bucket = "hour" if grain == "Per hour" else "day"
    where, extra = scope_filter(execution)
    frame = data.query(
        f"select date_trunc('{bucket}', timezone(?, timezone('UTC', activity_hour))) as clicked_at, url, "
        f"cast(sum({clicks}) as bigint) as {clicks} from marts.fct_link_click_hours "
        f"where {where} and activity_hour >= ? and activity_hour < ? and url in ({', '.join('?' for _ in urls)}) "
        "group by clicked_at, url order by clicked_at",
        [zone, campaign, channel, *extra, *utc_range, *urls],
    )
    w.section("Click distribution over time", f"The top {len(urls)} links' clicks {grain.lower()} ({zone}).")
    if frame.empty:
        w.empty("No clicks on these links in the period.")
        return
    wide = frame.pivot_table(index="clicked_at", columns="url", values=clicks, aggfunc="sum", fill_value=0).reset_index()
    w.line_chart(wide, "clicked_at", [url for url in urls if url in wide.columns], f"{bucket} ({zone})")


def clickstream(campaign: str, channel: str, execution: str | None, bounds: data.Bounds, zone: str, utc_range: tuple) -> None:
    # Human only: the links' human clicks beside the ranks (which follow all clicks, as the page's).
    clicks, unique_clicks = w.activity(["clicks", "unique_clicks"])
    if execution is None:
        links = data.query(
            f"select link_rank, url, {clicks}, share_of_clickers, share_of_clicks, {unique_clicks} "
            "from marts.period_campaign_top_links_between(?, ?, report_timezone := ?) where campaign_id = ? and channel = ? and link_rank <= 10 "
            "order by link_rank",
            [*bounds, campaign, channel],
        )
    else:
        links = data.query(
            f"select link_rank, url, {clicks}, share_of_clickers, share_of_clicks, {unique_clicks} "
            "from marts.period_top_links_between(?, ?, report_timezone := ?) where campaign_id = ? and channel = ? and execution_id = ? "
            "and link_rank <= 10 order by link_rank",
            [*bounds, campaign, channel, execution],
        )
    w.section("Top 10 links")
    if links.empty:
        w.empty("No clicks on links in the period.")
    else:
        w.bar_chart(links, "url", clicks)
        w.table(links, data.column_docs("period_top_links"))
        click_distribution(campaign, channel, execution, list(links["url"][:5]), utc_range, zone)
    where, extra = scope_filter(execution)
    opens = w.one_activity("opens")
    daily = data.query(
        f"select activity_date, cast(sum({opens}) as bigint) as {opens}, cast(sum({clicks}) as bigint) as {clicks} "
        f"from marts.period_engagement_daily_between(?, ?, report_timezone := ?) where {where} "
        f"group by activity_date order by activity_date",
        [*bounds, campaign, channel, *extra],
    )
    w.section("Opens and clicks over time", f"Per calendar day in {zone}.")
    if daily.empty:
        w.empty("No opens or clicks in the period.")
    else:
        w.line_chart(daily, "activity_date", [opens, clicks], f"day ({zone})")


def period_report() -> None:
    if not data.is_published():
        w.empty(f"Nothing published yet at {data.serving_file()}: run `make demo`, then reload.")
        return
    campaigns = data.query(
        "select campaign_id, campaign_name from marts.dim_campaigns where deliveries > 0 order by deliveries desc, campaign_id"
    )
    if campaigns.empty:
        w.empty("No deliveries in the warehouse yet.")
        return
    span = data.one(
        "select cast(min(activity_hour) as date) as first_day, cast(max(activity_hour) as date) as last_day "
        "from marts.fct_message_hours"
    )
    last_day = span["last_day"] if span and span["last_day"] is not None else date.today()
    picker, scope, dates = st.columns([2, 2, 3])
    campaign, _ = w.campaign_picker(campaigns, "period_campaign", picker)
    deliveries = data.query(
        "select channel, execution_id, execution_started_at from marts.fct_deliveries "
        "where campaign_id = ? order by channel, execution_started_at",
        [campaign],
    )
    channel = scope.selectbox(
        "Channel", sorted(deliveries["channel"].unique()), format_func=lambda c: data.CHANNELS[c], key="period_channel"
    )
    executions = [ALL_EXECUTIONS, *deliveries.loc[deliveries["channel"] == channel, "execution_id"]]
    execution_choice = scope.selectbox("Delivery", executions, key="period_execution")
    execution = None if execution_choice == ALL_EXECUTIONS else execution_choice
    chosen = dates.date_input(f"Period (days in {w.zone()})", value=(last_day - timedelta(days=6), last_day), key="period_dates")
    zone = w.zone()
    if not isinstance(chosen, tuple) or len(chosen) != 2:
        w.empty("Pick the period's last day too.")
        return
    bounds = data.period_arguments(chosen[0], chosen[1], zone)
    basis = COHORT if execution is not None else EVENT_TIME
    if execution is not None:
        basis = st.radio("Count", [COHORT, EVENT_TIME], horizontal=True, key="period_basis")
    row = summary_row(campaign, channel, execution, bounds, basis)
    scope_text = "campaign tab: every execution on the channel, event time" if execution is None else basis
    if row is None:
        st.caption(f"{chosen[0]} to {chosen[1]} ({zone}) · {scope_text}")
        w.empty(f"No {data.CHANNELS[channel]} activity for this {'delivery' if execution else 'campaign'} in the period.")
        return
    st.caption(f"[{row['period_start']:%Y-%m-%d %H:%M}, {row['period_end']:%Y-%m-%d %H:%M}) UTC · {scope_text}")
    docs = data.column_docs("period_delivery_report")
    where, extra = scope_filter(execution)
    parameters = [campaign, channel, *extra]
    rejected = data.query(
        "select reason, reason_label, cast(sum(events) as bigint) as rejected "
        f"from marts.period_non_deliverables_between(?, ?, report_timezone := ?) where {where} and reason_kind = 'exclusion' "
        "group by reason, reason_label order by rejected desc",
        [*bounds, *parameters],
    )
    delivery_summary(row, channel, docs, rejected)
    if channel == "email":
        non_deliverables(where, parameters, bounds)
        tracking_indicators(row, docs, where, parameters, bounds)
    clickstream(campaign, channel, execution, bounds, zone, (row["period_start"], row["period_end"]))


st.title("Period report", help="Any date range, answered at query time by the period_*_between functions.")
alerts_banner()
period_report()
