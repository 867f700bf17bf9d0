"""The open alerts (marts.live_alerts) as a banner at the top of every page: critical ones
as an error box, warnings as a warning box, each alert listed in an expander."""

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
