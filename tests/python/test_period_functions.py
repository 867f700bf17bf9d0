"""Any period at query time: every period_X_between(start, end) equals the static period_X
that a dbt build with period_start/period_end set to that range makes, every row and
column, for random whole-hour ranges; the delivery report and the campaign-tab report also
equal the independent reference (tally golden (src/tally/reference.py)) for each range; and the
functions exist in the published serving file, with the same answers there."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import compare
from conftest import TALLY, dbt, load_folder, run
from tally.reference import COUNT_COLUMNS, RATE_COLUMNS

# dbt builds per random period.
pytestmark = pytest.mark.slow

STATIC_MARTS = {
    "period_delivery_report": "period_delivery_report_between",
    "period_delivery_cohort": "period_delivery_cohort_between",
    "period_channel_report": "period_channel_report_between",
    "period_domain_statistics": "period_domain_statistics_between",
    "period_non_deliverables": "period_non_deliverables_between",
    "period_top_links": "period_top_links_between",
    "period_campaign_top_links": "period_campaign_top_links_between",
    "period_engagement_daily": "period_engagement_daily_between",
    "period_suppression_daily": "period_suppression_daily_between",
    "period_suppression_exclusions": "period_suppression_exclusions_between",
}
AS_OF = "2026-11-04 06:00:00"
SEED = 20261130


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("periods")
    data = root / "events"
    run([*TALLY, "generate", "--events", "20000", "--days", "3", "--format", "csv", "--seed", "21", "--out", str(data)])
    warehouse = root / "warehouse.duckdb"
    load_folder(data, warehouse, "csv")
    dbt(["build", "--exclude", "tag:golden", "--vars", f'{{report_as_of: "{AS_OF}"}}'], warehouse)
    return {"root": root, "data": data, "warehouse": warehouse}


def random_ranges(warehouse: Path) -> list[tuple[str, str]]:
    """Whole-hour ranges inside and around the data's span, from a fixed seed (printed on
    failure): all history, a single hour, days in a whole-hour zone (UTC+2), and random ones."""
    con = duckdb.connect(str(warehouse), read_only=True)
    first, last = con.execute("select min(activity_hour), max(activity_hour) from marts.fct_message_hours").fetchone()
    con.close()
    hours = int((last - first).total_seconds() // 3600) + 1
    rng = random.Random(SEED)
    ranges = [
        (first - timedelta(days=1), last + timedelta(days=1)),
        (first + timedelta(hours=30), first + timedelta(hours=31)),
        (first.replace(hour=22) + timedelta(days=1), first.replace(hour=22) + timedelta(days=3)),
    ]
    for _ in range(3):
        start = rng.randrange(0, hours)
        ranges.append((first + timedelta(hours=start), first + timedelta(hours=start + rng.randrange(1, hours))))
    text = "%Y-%m-%d %H:%M:%S"
    return [(start.strftime(text), end.strftime(text)) for start, end in ranges]


def test_each_between_function_equals_a_build_for_that_range(built: dict[str, Path]) -> None:
    warehouse = built["warehouse"]
    ranges = random_ranges(warehouse)
    failures = []
    for start, end in ranges:
        variables = f'{{report_as_of: "{AS_OF}", period_start: "{start}", period_end: "{end}"}}'
        dbt(["run", "--select", "int_messages_in_period_window", "tag:period", "--vars", variables], warehouse)
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            for static, function in STATIC_MARTS.items():
                rows = con.execute(f"select count(*) from marts.{static}").fetchone()[0]
                call = f"select * from marts.{function}(timestamp '{start}', timestamp '{end}')"
                diff = compare.differences(con, f"select * from marts.{static}", call)
                if diff != (0, 0):
                    failures.append((start, end, static, rows, diff))
                if static == "period_delivery_report" and (start, end) == ranges[0]:
                    assert rows > 0
            # The bounds the rows show are the ones asked for (whole hours).
            shown = con.execute(
                f"select distinct period_start, period_end from marts.period_delivery_report_between("
                f"timestamp '{start}', timestamp '{end}')"
            ).fetchall()
            assert shown in ([], [(datetime.fromisoformat(start), datetime.fromisoformat(end))]), shown
        finally:
            con.close()
    assert not failures, f"seed {SEED}: (start, end, mart, rows, (only static, only function)): {failures}"


# Every column the reference computes.
REFERENCE_COLUMNS = COUNT_COLUMNS + RATE_COLUMNS


@pytest.mark.parametrize("grain", ["delivery", "channel"])
def test_between_functions_equal_the_independent_reference(built: dict[str, Path], grain: str) -> None:
    function = "period_delivery_report_between" if grain == "delivery" else "period_channel_report_between"
    keys = ["campaign_id", "execution_id", "channel"] if grain == "delivery" else ["campaign_id", "channel"]
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    try:
        for index, (start, end) in enumerate(random_ranges(built["warehouse"])[:4]):
            expected = built["root"] / f"reference_{grain}_{index}.csv"
            run(
                [
                    *TALLY,
                    "golden",
                    "--raw-dir",
                    str(built["data"]),
                    "--mode",
                    "period",
                    "--period-start",
                    start,
                    "--period-end",
                    end,
                    "--grain",
                    grain,
                    "--out",
                    str(expected),
                ]
            )
            join = " and ".join(f"actual.{key} = expected.{key}" for key in keys)
            value = "cast(nullif(expected.{0}, '') as double)"
            checks = " or ".join(
                f"(actual.{c} is null) != ({value.format(c)} is null) or abs(actual.{c} - {value.format(c)}) > 1e-9"
                for c in REFERENCE_COLUMNS
            )
            mismatched = con.execute(f"""
                select count(*), count(*) filter (where actual.{keys[0]} is null or expected.{keys[0]} is null)
                from (select * from marts.{function}(timestamp '{start}', timestamp '{end}')) as actual
                full outer join read_csv('{expected}', header = true, all_varchar = true) as expected on {join}
                where actual.{keys[0]} is null or expected.{keys[0]} is null or {checks}
            """).fetchone()
            reference_rows = con.execute(f"select count(*) from read_csv('{expected}', header = true)").fetchone()[0]
            assert mismatched == (0, 0), (start, end, mismatched, reference_rows)
    finally:
        con.close()


def test_functions_are_published_and_answer_the_same_there(built: dict[str, Path]) -> None:
    warehouse = built["warehouse"]
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--publish-only"])
    serving = warehouse.with_name("serving.duckdb")
    start, end = random_ranges(warehouse)[3]
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as working (read_only)")
        con.execute(f"attach '{serving}' as serving (read_only)")
        names = {
            row[0]
            for row in con.execute(
                "select function_name from duckdb_functions() where database_name = 'serving' and schema_name = 'marts' "
                "and function_type = 'table_macro'"
            ).fetchall()
        }
        # the period functions and the experiments' (content experiments at any instant)
        assert names == set(STATIC_MARTS.values()) | {"experiment_results_as_of"}
        experiment_answers = []
        for catalog in ("working", "serving"):
            con.execute(f"use {catalog}")
            experiment_answers.append(
                con.execute(
                    f"select count(*), sum(hash(columns(*))) from marts.experiment_results_as_of(timestamp '{end}')"
                ).fetchone()
            )
        con.execute("use memory")
        assert experiment_answers[0] == experiment_answers[1] and experiment_answers[0][0] > 0
        for function in sorted(set(STATIC_MARTS.values())):
            answers = []
            for catalog in ("working", "serving"):
                con.execute(f"use {catalog}")
                answers.append(
                    con.execute(
                        f"select count(*), sum(hash(columns(*))) from marts.{function}(timestamp '{start}', timestamp '{end}')"
                    ).fetchone()
                )
            con.execute("use memory")
            assert answers[0] == answers[1], function
            assert answers[0][0] > 0, function
    finally:
        con.close()


def proportion_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """The columns of a relation that are proportions: rates, reactivities and shares."""
    names = [row[0] for row in con.execute(f"describe {relation}").fetchall()]
    return [name for name in names if name.endswith("rate") or "reactivity" in name or name.startswith("share_of")]


def test_every_rate_is_a_proportion_on_generated_data(built: dict[str, Path]) -> None:
    """Every rate, reactivity and share of every mart (the live window cuts the generated
    sends; late bounces, opens days later, clicks without a tracked open, in-app and web
    messages with tracking and no delivery event) and of every period function over ranges
    that cut through deliveries is in [0, 1] or null. The data holds what broke the former
    event-count rates, so this test can fail: a delivery with more unique clicks in a
    range than delivery events (the former click_rate above 1)."""
    warehouse = built["warehouse"]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relations = [
            f"marts.{name}"
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        for start, end in random_ranges(warehouse):
            relations += [
                f"marts.{function}(timestamp '{start}', timestamp '{end}')" for function in sorted(set(STATIC_MARTS.values()))
            ]
            relations.append(f"marts.experiment_results_as_of(timestamp '{end}')")
        checked: dict[str, int] = {}
        outside = []
        for relation in relations:
            columns = proportion_columns(con, f"select * from {relation}")
            # An experiment's conversion rate for `clicks` is clicks per profile, a mean (its
            # documented meaning); every other success metric's is a share of profiles.
            where = " where success_metric != 'clicks'" if "experiment_result" in relation else ""
            for column in columns:
                low, high, rows = con.execute(
                    f"select min({column}), max({column}), count({column}) from {relation}{where}"
                ).fetchone()
                checked[column] = checked.get(column, 0) + rows
                if rows and (low < 0 or high > 1):
                    outside.append((relation, column, low, high))
        assert not outside, outside
        # Every rate was seen with values (an alert's needs an alert: none on this data).
        assert {column for column, rows in checked.items() if rows == 0} <= {"rate", "baseline_rate"}, checked
        assert {"delivered_rate", "click_rate", "raw_reactivity", "new_quarantine_rate", "share_of_kind"} <= set(checked)
        # The former definitions break on this data (unique clicks over delivery events).
        broken = con.execute(
            "select count(*) from marts.live_delivery_statistics where delivered > 0 and unique_clicks > delivered"
        ).fetchone()[0]
        broken += sum(
            con.execute(
                f"select count(*) from marts.period_delivery_report_between(timestamp '{start}', timestamp '{end}') "
                "where delivered > 0 and unique_clicks > delivered"
            ).fetchone()[0]
            for start, end in random_ranges(warehouse)
        )
        assert broken > 0
    finally:
        con.close()
