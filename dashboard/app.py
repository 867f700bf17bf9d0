"""The reports dashboard: `make dashboard` (streamlit run dashboard/app.py). Reads only the
published serving file ($SERVING_PATH, else serving.duckdb beside $WAREHOUSE_PATH),
read-only and afresh on every query, so each refresh's publish shows without a restart."""

import streamlit as st

import widgets as w

st.set_page_config(page_title="Messaging reports", layout="wide")
w.human_switch()
w.zone_switch()
navigation = st.navigation(
    [
        st.Page("live.py", title="Live report", default=True),
        st.Page("delivery.py", title="Live delivery", url_path="delivery"),
        st.Page("period.py", title="Period report", url_path="period"),
        st.Page("deliverability.py", title="Deliverability", url_path="deliverability"),
        st.Page("experiments.py", title="Experiments", url_path="experiments"),
    ]
)
navigation.run()
