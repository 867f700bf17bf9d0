"""Content experiments end to end (issue 24): generated events with experiments of a chosen
true lift, loaded and built as a user does; experiment_results, experiment_result_looks and
experiment_results_as_of(as_of) at several instants equal the independent reference
(tally golden --experiments-out, tally.experiment_reference) row for row; the bounds of a
later instant lie within an earlier one's; the verdict finds the lift; a profile seen in two
treatments stays in its first; the rules of assignment, from events written for them."""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import TALLY, dbt, run

pytestmark = pytest.mark.slow

AS_OF = "2026-11-06 00:00:00"
INSTANTS = ["2026-11-02 12:00:00", "2026-11-03 18:30:00", "2026-11-05 00:00:00", AS_OF]
NUMBERS = ["looks", "profiles", "successes", "conversion_rate", "baseline_profiles", "baseline_successes"]
NUMBERS += ["baseline_conversion_rate", "difference", "lift", "look_lower_bound", "look_upper_bound", "lower_bound"]
NUMBERS += ["upper_bound", "p_value", "confidence", "profiles_assigned", "profiles_seen_in_other_treatments"]
TEXTS = ["experiment_name", "campaign_id", "treatment_name", "is_holdout", "is_baseline", "baseline_treatment_id"]
TEXTS += ["is_significant", "best_treatment_id", "is_best_treatment", "is_inconclusive", "verdict"]
KEY = ["experiment_id", "treatment_id", "success_metric"]


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def rows_of(warehouse: Path, sql: str) -> dict[tuple, dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return {tuple(row[names.index(k)] for k in KEY): dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def reference_rows(path: Path) -> dict[tuple, dict]:
    with path.open(newline="") as handle:
        return {tuple(row[k] for k in KEY): row for row in csv.DictReader(handle)}


def same(actual: object, expected: str) -> bool:
    if expected == "":
        return actual is None
    if isinstance(actual, bool):
        return str(actual).lower() == expected
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-12)
    return str(actual) == expected


def assert_equal_to_reference(actual: dict[tuple, dict], expected: dict[tuple, dict], label: str) -> None:
    assert set(actual) == set(expected), (label, set(actual) ^ set(expected))
    differences = [
        (key, column, actual[key][column], expected[key][column])
        for key in expected
        for column in NUMBERS + TEXTS
        if not same(actual[key][column], expected[key][column])
    ]
    assert not differences, (label, differences[:10])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """30,000 generated events whose experiments' treatment B lifts opens and clicks by 150 %."""
    folder = tmp_path_factory.mktemp("experiments")
    data = folder / "events"
    run(
        [*TALLY, "generate", "--events", "30000", "--days", "4", "--format", "csv", "--seed", "31"]
        + ["--experiment-lift", "1.5", "--out", str(data)]
    )
    warehouse = folder / "w" / "warehouse.duckdb"
    for table in ("campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"):
        run([*TALLY, "load", "--quiet", "--table", table, str(data / f"{table}.csv")], warehouse)
    dbt(
        ["build", "--select", "+tag:experiments", "--indirect-selection", "cautious", "--vars", f"{{report_as_of: '{AS_OF}'}}"],
        warehouse,
    )
    return data, warehouse


def test_experiment_results_equal_the_reference_at_several_instants(built: tuple[Path, Path], tmp_path: Path) -> None:
    """The mart at the build's instant and the function at four instants, against the
    reference at each; every later instant's bounds within every earlier one's."""
    data, warehouse = built
    previous: dict[tuple, dict] = {}
    for instant in INSTANTS:
        out = tmp_path / f"reference-{instant[:10]}.csv"
        run(
            [*TALLY, "golden", "--raw-dir", str(data), "--out", str(tmp_path / "deliveries.csv")]
            + ["--experiments-out", str(out), "--experiments-as-of", instant]
        )
        expected = reference_rows(out)
        assert expected, instant
        actual = rows_of(warehouse, f"select * from marts.experiment_results_as_of(timestamp '{instant}')")
        assert_equal_to_reference(actual, expected, instant)
        for key, row in actual.items():
            before = previous.get(key)
            if before and before["lower_bound"] is not None:
                assert row["lower_bound"] >= before["lower_bound"] - 1e-12, (key, instant)
                assert row["upper_bound"] <= before["upper_bound"] + 1e-12, (key, instant)
        previous = actual
    assert_equal_to_reference(rows_of(warehouse, "select * from marts.experiment_results"), expected, "mart")


def test_the_looks_equal_the_reference(built: tuple[Path, Path], tmp_path: Path) -> None:
    data, warehouse = built
    out = tmp_path / "looks.csv"
    run(
        [*TALLY, "golden", "--raw-dir", str(data), "--out", str(tmp_path / "deliveries.csv")]
        + ["--experiment-looks-out", str(out), "--experiments-as-of", AS_OF]
    )
    with out.open(newline="") as handle:
        expected = sorted(
            (
                r["experiment_id"],
                r["treatment_id"],
                r["success_metric"],
                r["look_at"],
                int(r["profiles"]),
                int(r["successes"]),
                round(float(r["lower_bound"]), 9) if r["lower_bound"] else None,
            )
            for r in csv.DictReader(handle)
        )
    actual = sorted(
        (e, t, m, str(look), p, s, None if lb is None else round(lb, 9))
        for e, t, m, look, p, s, lb in query(
            warehouse,
            "select experiment_id, treatment_id, success_metric, look_at, profiles, successes, lower_bound "
            "from marts.experiment_result_looks",
        )
    )
    assert actual == expected


def test_the_lift_is_found_and_the_arms_are_reported(built: tuple[Path, Path]) -> None:
    """Treatment B's 150 % lift on unique opens is declared in every experiment with enough
    profiles; the holdout is never best; profiles seen in two treatments are reported."""
    _, warehouse = built
    verdicts = query(
        warehouse,
        "select experiment_id, verdict, best_treatment_id, sum(profiles) from marts.experiment_results "
        "where success_metric = 'unique_opens' group by all",
    )
    large = [v for v in verdicts if v[3] >= 400]
    assert large and all(v[1] == "treatment_wins" and v[2] == "trt_b" for v in large), verdicts
    assert not query(warehouse, "select 1 from marts.experiment_results where is_holdout and is_best_treatment")
    crossed = query(
        warehouse, "select sum(profiles_seen_in_other_treatments) from marts.experiment_results where success_metric = 'clicks'"
    )
    assert crossed[0][0] > 0
    holdouts = query(
        warehouse, "select count(*) from marts.experiment_results where is_holdout and successes = 0 and profiles > 0"
    )
    assert holdouts[0][0] > 0


T0 = datetime(2026, 11, 1, 8, 0, 0)
FEEDBACK = ["event_id", "event_ts", "ingested_at", "campaign_id", "execution_id", "message_id", "profile_id", "channel"]
FEEDBACK += ["status", "reason", "experiment_id", "experiment_name", "treatment_id", "treatment_name"]
TRACKING = ["event_id", "event_ts", "ingested_at", "campaign_id", "execution_id", "message_id", "profile_id", "channel"]
TRACKING += ["interaction", "url", "user_agent"]
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"


def test_the_assignment_rules_from_events_written_for_them(tmp_path: Path) -> None:
    """Written cases: the first send decides (a later send of the other treatment keeps the
    profile in its first and is reported), a holdout exclusion forms the holdout arm, a send
    with no treatment assigns nothing, an open after the outcome window does not count, a
    tie at the same instant goes to the lowest treatment, and an open of the later message
    counts for the first treatment (intention to treat)."""
    hour = timedelta(hours=1)
    # profile -> [(hours after T0, status, reason, treatment)], then opens [(hours after T0, message index)]
    cases = {
        "p_first_a": ([(0, "sent", "", "a"), (2, "sent", "", "b")], [(3, 1)]),
        "p_holdout": ([(0, "excluded", "holdout", "")], []),
        "p_no_treatment": ([(0, "sent", "", "")], [(1, 0)]),
        "p_late_open": ([(0, "sent", "", "b")], [(25, 0)]),
        "p_tie": ([(0, "sent", "", "b"), (0, "sent", "", "a")], [(1, 0)]),
        "p_plain_b": ([(1, "sent", "", "b")], [(2, 0)]),
    }
    raw = tmp_path / "raw"
    raw.mkdir()
    feedback, tracking = [], []
    for profile, (sends, opens) in cases.items():
        for index, (hours, status, reason, treatment) in enumerate(sends):
            ts = (T0 + hours * hour).strftime("%Y-%m-%d %H:%M:%S")
            feedback.append(
                {
                    "event_id": f"f_{profile}_{index}",
                    "event_ts": ts,
                    "ingested_at": ts,
                    "campaign_id": "c1",
                    "execution_id": "x1",
                    "message_id": f"m_{profile}_{index}",
                    "profile_id": profile,
                    "channel": "email",
                    "status": status,
                    "reason": reason,
                    "experiment_id": "exp1",
                    "experiment_name": "Subject test",
                    "treatment_id": treatment,
                    "treatment_name": f"Treatment {treatment.upper()}" if treatment else "",
                }
            )
        for index, (hours, message) in enumerate(opens):
            ts = (T0 + hours * hour).strftime("%Y-%m-%d %H:%M:%S")
            tracking.append(
                {
                    "event_id": f"t_{profile}_{index}",
                    "event_ts": ts,
                    "ingested_at": ts,
                    "campaign_id": "c1",
                    "execution_id": "x1",
                    "message_id": f"m_{profile}_{message}",
                    "profile_id": profile,
                    "channel": "email",
                    "interaction": "open",
                    "url": "",
                    "user_agent": BROWSER,
                }
            )
    for name, columns, rows in (("message_feedback_events", FEEDBACK, feedback), ("message_tracking_events", TRACKING, tracking)):
        with (raw / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(rows)
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    for name in ("message_feedback_events", "message_tracking_events"):
        run([*TALLY, "load", "--quiet", "--table", name, str(raw / f"{name}.csv")], warehouse)
    dbt(
        [
            "build",
            "--select",
            "+tag:experiments",
            "--indirect-selection",
            "cautious",
            "--vars",
            "{report_as_of: '2026-11-03 00:00:00'}",
        ],
        warehouse,
    )
    arms = dict(
        query(warehouse, "select profile_id, treatment_id || ':' || treatments_seen from marts.fct_experiment_assignments")
    )
    assert arms == {"p_first_a": "a:2", "p_holdout": "holdout:1", "p_late_open": "b:1", "p_tie": "a:2", "p_plain_b": "b:1"}
    results = {
        (t, m): (p, s, x)
        for t, m, p, s, x in query(
            warehouse,
            "select treatment_id, success_metric, profiles, successes, profiles_seen_in_other_treatments "
            "from marts.experiment_results",
        )
    }
    # a: p_first_a (its open of the b message counts) and p_tie; b: p_late_open (open too late), p_plain_b
    assert results[("a", "unique_opens")] == (2, 2, 2)
    assert results[("b", "unique_opens")] == (2, 1, 0)
    assert results[("holdout", "unique_opens")] == (1, 0, 0)
    out = tmp_path / "reference.csv"
    run(
        [*TALLY, "golden", "--raw-dir", str(raw), "--out", str(tmp_path / "d.csv"), "--experiments-out", str(out)]
        + ["--experiments-as-of", "2026-11-03 00:00:00"]
    )
    assert_equal_to_reference(rows_of(warehouse, "select * from marts.experiment_results"), reference_rows(out), "cases")
