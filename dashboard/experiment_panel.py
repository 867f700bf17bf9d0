"""The Experimentation panel: a content experiment's treatments at an instant (the build's,
or any the user picks), the verdict in words, and the confidence bounds of each treatment's
difference with the baseline over the hourly looks (marts.experiment_results,
experiment_results_as_of, experiment_result_looks; docs/widget-map.md, "Experimentation
tab"). Used by the live report's Experimentation tab and the Experiments page."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import data
import widgets as w

METRICS = ["unique_opens", "unique_clicks", "clicks", "human_unique_opens", "human_unique_clicks"]
TABLE_COLUMNS = [
    "treatment_id", "treatment_name", "is_baseline", "is_holdout", "profiles_assigned", "profiles", "successes",
    "conversion_rate", "difference", "lift", "lower_bound", "upper_bound", "confidence", "is_best_treatment",
    "profiles_seen_in_other_treatments",
]  # fmt: skip


def verdict_text(rows: pd.DataFrame) -> str:
    """The experiment's verdict for the metric, in words."""
    first = rows.iloc[0]
    level = f"{first['confidence_level']:.0%}"
    names = dict(zip(rows["treatment_id"], rows["treatment_name"].fillna(rows["treatment_id"]), strict=True))
    best = first["best_treatment_id"]
    baseline = names.get(first["baseline_treatment_id"], first["baseline_treatment_id"])
    if first["verdict"] == "treatment_wins":
        lift = rows.loc[rows["treatment_id"] == best, "lift"].iloc[0]
        lift_text = "" if pd.isna(lift) else f" ({lift:+.1%} over {baseline})"
        return f"**{names[best]}** is the best treatment{lift_text}, at {level} confidence."
    if first["verdict"] == "baseline_wins":
        return f"The baseline **{baseline}** beats every other treatment, at {level} confidence."
    if first["verdict"] == "no_contender":
        return "Only a baseline (and perhaps a holdout): nothing to compare yet."
    return (
        f"**Inconclusive**: no treatment differs from the baseline {baseline} at {level} confidence yet. "
        "The bounds stay valid however often you look: keep the experiment running, or stop it as a tie."
    )


def bounds_chart(looks: pd.DataFrame) -> None:
    """Each treatment's observed difference with the baseline and its running bounds."""
    looks = looks.dropna(subset=["difference"])
    if looks.empty:
        w.empty("No look has both the treatment's and the baseline's profiles yet.")
        return
    band = (
        alt.Chart(looks)
        .mark_area(opacity=0.25)
        .encode(
            x=alt.X("look_at:T", title="look (UTC hour ends)"),
            y=alt.Y("lower_bound:Q", title="difference with the baseline"),
            y2="upper_bound:Q",
            color=alt.Color("treatment_id:N", title=None),
        )
    )
    line = (
        alt.Chart(looks)
        .mark_line(point=True)
        .encode(
            x="look_at:T",
            y="difference:Q",
            color="treatment_id:N",
            tooltip=["treatment_id:N", alt.Tooltip("look_at:T"), "profiles:Q", "difference:Q", "lower_bound:Q", "upper_bound:Q"],
        )
    )
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(y="zero:Q")
    st.altair_chart(band + line + zero, width="stretch")
    w.data_download(looks, ["treatment_id", "look_at", "profiles", "difference", "lower_bound", "upper_bound"])


def experiment_panel(campaign: str | None, key: str) -> None:
    """The panel for one of the campaign's experiments (any experiment when campaign is None)."""
    listing = "select distinct experiment_id, experiment_name, campaign_id, results_as_of from marts.experiment_results"
    if campaign is None:
        experiments = data.query(f"{listing} order by experiment_id")
    else:
        experiments = data.query(f"{listing} where campaign_id = ? order by experiment_id", [campaign])
    if experiments.empty:
        w.empty("No content experiment" + (" in this campaign." if campaign else " is published."))
        return
    names = {
        row[
            "experiment_id"
        ]: f"{row['experiment_name'] or row['experiment_id']} ({row['experiment_id']}, campaign {row['campaign_id']})"
        for row in experiments.to_dict("records")
    }
    left, middle, right = st.columns(3)
    experiment = left.selectbox("Experiment", list(names), format_func=names.get, key=f"{key}_experiment")
    metric = middle.selectbox(
        "Success metric", METRICS, format_func=w.label, key=f"{key}_metric",
        help="What counts as a profile's success, within its outcome window after its send (default 24 h).",
    )  # fmt: skip
    built_at = pd.Timestamp(experiments["results_as_of"].iloc[0]).to_pydatetime()
    moment = right.date_input("As of (UTC day's end, or the build's instant)", value=built_at.date(), key=f"{key}_day")
    rows, as_of = results(experiment, metric, built_at, moment)
    docs = data.column_docs("experiment_results")
    if rows.empty:
        w.empty(f"No profile of {names[experiment]} was assigned by {as_of:%Y-%m-%d %H:%M} UTC.")
        return
    st.caption(f"Results as of {as_of:%Y-%m-%d %H:%M:%S} UTC; bounds of the difference with the baseline, anytime-valid.")
    st.markdown(verdict_text(rows))
    w.table(rows[TABLE_COLUMNS], docs, key=f"{key}_table")
    looks = data.query(
        "select treatment_id, look_at, profiles, difference, lower_bound, upper_bound from marts.experiment_result_looks "
        "where experiment_id = ? and success_metric = ? and not is_baseline and look_at <= ? order by look_at",
        [experiment, metric, as_of],
    )
    w.section("Bounds of the difference over time", docs.get("lower_bound"))
    bounds_chart(looks)


def results(experiment: str, metric: str, built_at: datetime, day: Any) -> tuple[pd.DataFrame, datetime]:
    """The results at the build's instant, or at the end of the chosen UTC day when it is
    earlier (experiment_results_as_of)."""
    as_of = built_at
    if day is not None and datetime.combine(day, time(23, 59, 59)) < built_at:
        as_of = datetime.combine(day, time(23, 59, 59))
    sql = "select * from {} where experiment_id = ? and success_metric = ? order by is_holdout, not is_baseline, treatment_id"
    if as_of == built_at:
        return data.query(sql.format("marts.experiment_results"), [experiment, metric]), as_of
    return data.query(sql.format("marts.experiment_results_as_of(?)"), [as_of, experiment, metric]), as_of
