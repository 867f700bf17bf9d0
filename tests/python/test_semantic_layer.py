"""The semantic layer (models/semantic/): every metric queried through MetricFlow (`mf
query`, on the read-only target) equals the report's column for the same grain and window:
the campaign tabs and the deliveries of period_*_between over the sample's period."""

from __future__ import annotations

import csv
import math
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import DBT, PYTHON, REPO, dbt, load_folder, project_env, run
from tally.reference import RATE_PART_COLUMNS

# A dbt build, then MetricFlow queries.
pytestmark = pytest.mark.slow

START, END = "2026-11-02 00:00:00", "2026-11-06 00:00:00"
METRICS = [
    "messages",
    "audience",
    "targeted",
    "excluded",
    "errors",
    "sent",
    "delivered",
    "bounces",
    "hard_bounces",
    "soft_bounces",
    "ignored_bounces",
    "opens",
    "unique_opens",
    "estimated_unique_opens",
    "clicks",
    "unique_clicks",
    "human_opens",
    "human_unique_opens",
    "human_clicks",
    "human_unique_clicks",
    "unique_channel_clicks",
    "unique_reached",
    "unsubscriptions",
    "unique_unsubscriptions",
    "spam_complaints",
    "mirror_page_views",
    "unique_mirror_page_views",
    "forwards",
    "unique_forwards",
    "estimated_forwards",
    "impressions",
    "unique_impressions",
    "dismissals",
    "other_interactions",
    "interactions",
    "actions",
    "engagements",
    "offers_sent",
    "new_quarantines",
    "initial_audience",
    "rejected_by_rules",
    "messages_to_deliver",
    "success",
    "execution_errors",
    *RATE_PART_COLUMNS,
    "delivered_rate",
    "bounce_rate",
    "open_rate",
    "click_rate",
    "human_open_rate",
    "human_click_rate",
    "reactivity",
    "raw_reactivity",
    "channel_reactivity",
    "success_rate",
    "error_rate",
    "execution_error_rate",
    "new_quarantine_rate",
]
GRAINS = {
    "campaign_tab": ("period_channel_report_between", "campaign_id || '|' || channel"),
    "delivery": ("period_delivery_report_between", "campaign_id || '|' || execution_id || '|' || channel"),
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("semantic") / "warehouse.duckdb"
    load_folder(REPO / "data" / "sample", path, "csv")
    dbt(
        [
            "build",
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
            "--vars",
            '{report_as_of: "2026-11-04 06:00:00"}',
        ],
        path,
    )
    # MetricFlow reads the project's target/semantic_manifest.json, which names the
    # warehouse's database: parse for this warehouse, as a user would after a build.
    run([DBT, "parse"], path)
    return path


def mf_query(warehouse: Path, metrics: list[str], group_by: str, out: Path) -> list[dict[str, str]]:
    where = (
        f"{{{{ TimeDimension('metric_time', 'hour') }}}} >= '{START}' "
        f"and {{{{ TimeDimension('metric_time', 'hour') }}}} < '{END}'"
    )
    env = dict(project_env(warehouse), DBT_TARGET="readonly")
    result = subprocess.run(
        [
            str(Path(PYTHON).with_name("mf")),
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            group_by,
            "--where",
            where,
            "--csv",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    with out.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("grain", list(GRAINS))
def test_every_metric_through_metricflow_equals_the_report(warehouse: Path, tmp_path: Path, grain: str) -> None:
    answered = {row[grain]: row for row in mf_query(warehouse, METRICS, grain, tmp_path / "mf.csv")}
    function, key = GRAINS[grain]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = con.execute(f"select {key} as grain_key, {', '.join(METRICS)} from marts.{function}(?, ?)", [START, END])
        expected = {row[0]: dict(zip(METRICS, row[1:], strict=False)) for row in result.fetchall()}
    finally:
        con.close()
    assert expected and set(answered) == set(expected)
    differences = []
    for key_value, row in expected.items():
        for metric in METRICS:
            text = answered[key_value][metric]
            got = float(text) if text not in ("", None) else None
            want = row[metric]
            if metric == "estimated_forwards" and got is None:
                got = 0.0  # a derived metric over a grain without clicks is empty in MetricFlow: no forward
            if (got is None) != (want is None) or (got is not None and not math.isclose(got, want, abs_tol=1e-9)):
                differences.append((key_value, metric, got, want))
    assert not differences, differences[:20]


def test_experiment_assignments_through_metricflow_equal_the_results(warehouse: Path, tmp_path: Path) -> None:
    """Profiles assigned per experiment treatment through MetricFlow, over all of the
    sample's time, equal experiment_results.profiles_assigned (and the profiles seen in
    several treatments, the results' profiles_seen_in_other_treatments)."""
    out = tmp_path / "experiments.csv"
    env = dict(project_env(warehouse), DBT_TARGET="readonly")
    metrics = "experiment_profiles_assigned,experiment_profiles_in_several_treatments"
    command = [str(Path(PYTHON).with_name("mf")), "query", "--metrics", metrics, "--group-by", "experiment_treatment"]
    result = subprocess.run([*command, "--csv", str(out)], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    with out.open() as handle:
        answered = {
            row["experiment_treatment"]: (
                float(row["experiment_profiles_assigned"]),
                float(row["experiment_profiles_in_several_treatments"]),
            )
            for row in csv.DictReader(handle)
        }
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = {
            key: (float(assigned), float(crossed))
            for key, assigned, crossed in con.execute(
                "select experiment_id || '|' || treatment_id, profiles_assigned, profiles_seen_in_other_treatments "
                "from marts.experiment_results where success_metric = 'unique_opens'"
            ).fetchall()
        }
    finally:
        con.close()
    assert expected and answered == expected
