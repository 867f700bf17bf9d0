"""What every page shows first: the open alerts (marts.live_alerts) as a banner, critical
ones as an error box, warnings as a warning box, each alert listed in an expander; and, on
the live pages, the window and the freshness of the publish."""

from __future__ import annotations

import streamlit as st

import data
import widgets as w
from tally.alerts import HAS_ALERTS_SQL, OPEN_ALERTS_SQL


def alerts_banner() -> None:
    if not data.is_published():
        return
    present = data.one(HAS_ALERTS_SQL)
    if not present or not present["n"]:
        return
    alerts = data.query(OPEN_ALERTS_SQL)
    if alerts.empty:
        return
    critical = int((alerts["severity"] == "critical").sum())
    text = (
        f"{len(alerts)} open alert{'s' if len(alerts) > 1 else ''} on the live window "
        f"({critical} critical): " + ", ".join(sorted(set(alerts["metric"]))) + ". `tally alerts` prints them."
    )
    (st.error if critical else st.warning)(text)
    with st.expander("Open alerts"):
        w.table(alerts, data.column_docs("live_alerts"), key="alerts_table")


def freshness() -> None:
    status = data.publish_status()
    if status is None:
        w.empty("The published file has no status row yet: publish once with `make publish` or a refresh.")
        return
    st.caption(
        f"Window ({status['window_start']:%Y-%m-%d %H:%M:%S}, {status['window_end']:%Y-%m-%d %H:%M:%S}] UTC, "
        f"events at least 2 minutes old · data as of {status['report_as_of']:%Y-%m-%d %H:%M:%S} UTC · "
        f"published {data.age_text(status['published_at'])} · newest event counted "
        f"{'-' if status['newest_event_at'] is None else format(status['newest_event_at'], '%H:%M:%S')}"
    )
    if status["failures_since_publish"]:
        st.warning(
            f"The last {status['failures_since_publish']} refresh(es) failed; showing the previous publish. "
            f"Last failure: {status['last_failure']}"
        )
