"""Experiments: every published content experiment, at the build's instant or any earlier
day's end (the panel of experiment_panel.py; the live report's Experimentation tab shows the
same for its campaign)."""

import streamlit as st

import data
import widgets as w
from experiment_panel import experiment_panel

st.title("Experiments", help='Content experiments: docs/decisions.md, "Content experiments".')
if data.is_published():
    experiment_panel(None, "experiments_page")
else:
    w.empty(f"Nothing published yet at {data.serving_file()}: run `make demo`, then reload.")
