"""The building blocks of the report pages: KPI tiles, charts and tables, each labelled
with the metric definitions dbt holds (shown as tooltips), and empty states that say why."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

RATE_SUFFIXES = ("_rate", "reactivity", "share_of_clicks", "share_of_clickers")
# What the "Human activity only" switch shows in place of each figure: the same count
# without the opens and clicks a machine rule classifies (fct_open_click_events).
HUMAN_TWINS = {
    "opens": "human_opens",
    "unique_opens": "human_unique_opens",
    "clicks": "human_clicks",
    "unique_clicks": "human_unique_clicks",
    "open_rate": "human_open_rate",
    "click_rate": "human_click_rate",
    "offer_impressions": "human_offer_impressions",
    "offer_clicks": "human_offer_clicks",
}
HUMAN_ONLY_KEY = "human_only"
ZONE_KEY = "report_zone"
# Zones a whole number of hours from UTC: their calendar days and clock hours are exact
# (the facts are per UTC hour; docs/reports.md).
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Brisbane",
]


def human_switch() -> None:
    """The sidebar switch every page reads (its state outlives a page change)."""
    st.session_state.setdefault(HUMAN_ONLY_KEY, False)
    st.sidebar.toggle(
        "Human activity only",
        key=HUMAN_ONLY_KEY,
        help="Opens and clicks without those of privacy proxies and link scanners (the platform's bot flag, "
        "known user agents, several links clicked in one second, a few seconds after the send): "
        "each figure shows its human_* twin.",
    )


def zone_switch() -> None:
    """The sidebar's time zone, which every page reads: days and hours are shown in it."""
    st.session_state.setdefault(ZONE_KEY, ZONES[0])
    st.sidebar.selectbox(
        "Time zone",
        ZONES,
        key=ZONE_KEY,
        help="Calendar days and clock hours of every chart and period are in this zone; "
        "the functions group in it (report_timezone), nothing is converted here.",
    )


def zone() -> str:
    return st.session_state.get(ZONE_KEY, ZONES[0])


def activity(columns: Sequence[str]) -> list[str]:
    """`columns` as the switch wants them: each open or click figure by its human twin when on."""
    if not st.session_state.get(HUMAN_ONLY_KEY, False):
        return list(columns)
    return [HUMAN_TWINS.get(column, column) for column in columns]


def one_activity(column: str) -> str:
    return activity([column])[0]


def is_rate(column: str) -> bool:
    return column.endswith(RATE_SUFFIXES)


def label(column: str) -> str:
    return column.replace("_", " ").capitalize()


def formatted(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if is_rate(column):
        return f"{float(value):.1%}"
    if isinstance(value, (int, float)):
        return f"{int(value):,}"
    return str(value)


def kpi_tiles(row: dict[str, Any], columns: Sequence[str], docs: dict[str, str]) -> None:
    """One tile per column (counts, or rates as percentages), the definition as tooltip."""
    for slot, column in zip(st.columns(len(columns)), columns, strict=True):
        slot.metric(label(column), formatted(column, row.get(column)), help=docs.get(column))


def table(frame: pd.DataFrame, docs: dict[str, str], key: str | None = None) -> None:
    config = {
        column: (
            st.column_config.NumberColumn(label(column), help=docs.get(column), format="percent")
            if is_rate(column)
            else st.column_config.Column(label(column), help=docs.get(column))
        )
        for column in frame.columns
    }
    st.dataframe(frame, hide_index=True, column_config=config, width="stretch", key=key)


def line_chart(frame: pd.DataFrame, x: str, columns: Sequence[str], x_title: str) -> None:
    long = frame.melt(id_vars=[x], value_vars=list(columns), var_name="metric", value_name="value")
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=x_title),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("metric:N", title=None),
            tooltip=[alt.Tooltip(f"{x}:T"), "metric:N", "value:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")
    data_download(frame, [x, *columns])


def data_download(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """A chart's data as a CSV download beside it (tables have their own, in the table's
    toolbar). Keyed by the chart's columns and data: two charts of one page differ in one."""
    text = frame[list(columns)].to_csv(index=False)
    name = "_".join(str(column) for column in columns)[:80]
    digest = hashlib.sha1(f"{name}\n{text}".encode()).hexdigest()[:12]
    st.download_button("Chart data (CSV)", text, file_name=f"{name}.csv", mime="text/csv", key=f"csv_{digest}", type="tertiary")


def bar_chart(frame: pd.DataFrame, category: str, value: str) -> None:
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=label(value)),
            y=alt.Y(f"{category}:N", sort="-x", title=None),
            tooltip=[f"{category}:N", f"{value}:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")
    data_download(frame, [category, value])


def chart_beside_table(
    frame: pd.DataFrame, category: str, value: str, docs: dict[str, str], table_frame: pd.DataFrame | None = None
) -> None:
    """A bar chart of `value` per `category` on the left, the rows as a table on the right
    (`table_frame` when the table shows other columns than the chart)."""
    left, right = st.columns(2)
    with left:
        bar_chart(frame, category, value)
    with right:
        table(frame if table_frame is None else table_frame, docs)


def campaign_picker(campaigns: pd.DataFrame, key: str, container: Any = st) -> tuple[str, str]:
    """A campaign selectbox over rows of campaign_id and campaign_name, shown as 'name (id)';
    returns the chosen id and its name."""
    names = dict(zip(campaigns["campaign_id"], campaigns["campaign_name"], strict=True))
    campaign = container.selectbox("Campaign", list(names), format_func=lambda value: f"{names[value]} ({value})", key=key)
    return campaign, names[campaign]


def section(title: str, help_text: str | None = None) -> None:
    st.subheader(title, help=help_text)


def empty(reason: str) -> None:
    st.info(reason)
