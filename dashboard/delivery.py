"""Live report of one delivery: the platform's email and push live reports (pages 000 and
002), which "ne cible qu'une diffusion spécifique": one execution's KPI tiles, its hourly
series and its error, exclusion and bounce reasons over the last 24 hours
(live_delivery_statistics, live_delivery_timeseries, live_delivery_reasons)."""

from __future__ import annotations

import streamlit as st

import data
import widgets as w
from banner import alerts_banner, freshness

REFRESH_SECONDS = 120
# The tiles of each channel's delivery page: the email and push pages' KPIs (000, 002),
# the channel tab's for the others.
TILES = {
    "email": ["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "opens", "clicks"],
    "push": ["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "opens", "actions"],
    "sms": ["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "clicks"],
    "inapp": ["impressions", "unique_impressions", "interactions", "channel_reactivity"],
    "web": ["impressions", "unique_impressions", "interactions", "channel_reactivity"],
    "direct_mail": ["audience", "sent", "errors", "excluded"],
}
SERIES = {
    "email": ["sent", "delivered", "bounces", "errors", "opens", "clicks"],
    "push": ["sent", "delivered", "bounces", "errors", "opens", "actions"],
    "sms": ["sent", "delivered", "bounces", "errors", "clicks"],
    "inapp": ["impressions", "interactions"],
    "web": ["impressions", "interactions"],
    "direct_mail": ["sent", "errors", "excluded"],
}


def delivery_reasons(campaign: str, execution: str, channel: str) -> None:
    frame = data.query(
        "select reason_kind, reason, reason_label, failure_type, events, share_of_kind, "
        "reason_kind || ': ' || reason_label as kind_and_reason from marts.live_delivery_reasons "
        "where campaign_id = ? and execution_id = ? and channel = ? order by reason_kind, events desc",
        [campaign, execution, channel],
    )
    w.section("Error, exclusion and bounce reasons")
    if frame.empty:
        w.empty("No error, exclusion or bounce for this delivery in the last 24 hours.")
        return
    w.chart_beside_table(
        frame, "kind_and_reason", "events", data.column_docs("live_delivery_reasons"), frame.drop(columns="kind_and_reason")
    )


@st.fragment(run_every=REFRESH_SECONDS)
def live_delivery() -> None:
    if not data.is_published():
        w.empty(f"Nothing published yet at {data.serving_file()}: run `make demo`, then reload.")
        return
    alerts_banner()
    freshness()
    deliveries = data.query(
        "select campaign_id, execution_id, channel, execution_started_at from marts.live_delivery_statistics "
        "order by campaign_id, channel, execution_started_at"
    )
    if deliveries.empty:
        w.empty("No delivery has events in the last 24 hours. Events count once they are 2 minutes old.")
        return
    campaigns = data.query(
        "select campaign_id, campaign_name from marts.live_campaign_statistics order by targeted desc, campaign_id"
    )
    picker, scope, choice = st.columns([3, 2, 3])
    campaign, _ = w.campaign_picker(campaigns, "delivery_campaign", picker)
    mine = deliveries[deliveries["campaign_id"] == campaign]
    channel = scope.selectbox(
        "Channel", sorted(mine["channel"].unique()), format_func=lambda c: data.CHANNELS[c], key="delivery_channel"
    )
    zone = w.zone()
    started = data.query(
        "select execution_id, timezone(?, timezone('UTC', execution_started_at)) as started_local "
        "from marts.live_delivery_statistics where campaign_id = ? and channel = ? order by execution_started_at",
        [zone, campaign, channel],
    )
    labels = dict(zip(started["execution_id"], started["started_local"], strict=True))
    execution = choice.selectbox(
        f"Execution (start time, {zone})",
        list(labels),
        format_func=lambda e: f"{labels[e]:%Y-%m-%d %H:%M} · {e}",
        key="delivery_execution",
    )
    row = data.one(
        "select * from marts.live_delivery_statistics where campaign_id = ? and execution_id = ? and channel = ?",
        [campaign, execution, channel],
    )
    if row is None:  # the publish changed between the pickers and this query
        w.empty("This delivery has no events in the last 24 hours any more.")
        return
    if not row["is_sent_in_window"]:
        st.info("This execution was sent before the window: its counts are the last 24 hours' events, not the send's.")
    w.kpi_tiles(row, w.activity(TILES[channel]), data.column_docs("live_delivery_statistics"))
    columns = w.activity(SERIES[channel])
    frame = data.query(
        f"select timezone(?, timezone('UTC', hour_start)) as hour_start, {', '.join(columns)} "
        "from marts.live_delivery_timeseries where campaign_id = ? and execution_id = ? and channel = ? order by hour_start",
        [zone, campaign, execution, channel],
    )
    w.section("Over the last 24 hours", f"Per clock hour ({zone}).")
    w.line_chart(frame, "hour_start", columns, f"hour ({zone})")
    delivery_reasons(campaign, execution, channel)


st.title("Live delivery", help="One delivery (an execution of a campaign on a channel), the last 24 hours.")
live_delivery()
