"""The period_*_between functions' arguments cannot mislead (docs/reports.md, "Arguments"):
bounds mean the same instants whatever the session's TimeZone; a DATE is a day in
report_timezone; NULL is unbounded; an end before the start, a zone DuckDB does not know
and an argument that is no timestamp are errors that name them; and days are calendar days
in the zone, DST days of 23 and 25 hours included (Paris 2026-10-25, New York 2026-11-01),
checked against Python's zoneinfo, not DuckDB's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from conftest import TALLY, dbt, load_folder, run
from test_period_functions import STATIC_MARTS

# One dbt build over generated events that span both autumn DST changes.
pytestmark = pytest.mark.slow

FUNCTIONS = sorted(STATIC_MARTS.values())
BOUNDS = ("period_start", "period_end")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("arguments")
    events = root / "events"
    run(
        [*TALLY, "generate", "--events", "15000", "--start", "2026-10-23 00:00:00", "--days", "10"]
        + ["--format", "csv", "--seed", "25", "--out", str(events)]
    )
    path = root / "warehouse.duckdb"
    load_folder(events, path, "csv")
    dbt(["build", "--exclude", "tag:golden", "--vars", '{report_as_of: "2026-11-03 12:00:00"}'], path)
    return path


def rows(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None, drop_bounds: bool = False) -> list:
    relation = con.execute(sql, parameters or [])
    names = [column[0] for column in relation.description]
    keep = [i for i, name in enumerate(names) if not (drop_bounds and name in BOUNDS)]
    return sorted((tuple(row[i] for i in keep) for row in relation.fetchall()), key=repr)


def utc(text: str, zone: str = "UTC") -> datetime:
    """A local wall-clock time in `zone` as naive UTC (zoneinfo, independent of DuckDB)."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def test_bounds_mean_the_same_instants_in_every_session_time_zone(warehouse: Path) -> None:
    """Paris days three ways (timestamptz, DATE with the zone, text dates with the zone, and
    as bound parameters) equal the plain UTC timestamps of the same instants, in sessions
    set to UTC, New York and Kolkata."""
    start, end = utc("2026-10-24", "Europe/Paris"), utc("2026-10-27", "Europe/Paris")
    con = duckdb.connect(str(warehouse), read_only=True)
    reference = {
        function: rows(
            con, f"select * from marts.{function}(timestamp '{start}', timestamp '{end}', report_timezone := 'Europe/Paris')"
        )
        for function in FUNCTIONS
    }
    assert sum(len(found) for found in reference.values()) > 0
    calls = [
        (
            "(timestamptz '2026-10-24 00:00:00 Europe/Paris', timestamptz '2026-10-27 00:00:00 Europe/Paris', report_timezone := 'Europe/Paris')",
            [],
        ),
        ("(date '2026-10-24', date '2026-10-27', report_timezone := 'Europe/Paris')", []),
        ("('2026-10-24', '2026-10-27', report_timezone := 'Europe/Paris')", []),
        ("('2026-10-23 22:00:00', '2026-10-26 23:00:00', report_timezone := 'Europe/Paris')", []),
        ("('2026-10-24 00:00:00+02', '2026-10-27 00:00:00+01', report_timezone := 'Europe/Paris')", []),
        ("(?, ?, report_timezone := ?)", [date(2026, 10, 24), date(2026, 10, 27), "Europe/Paris"]),
        (
            "(?, ?, report_timezone := ?)",
            [
                datetime(2026, 10, 24, tzinfo=ZoneInfo("Europe/Paris")),
                datetime(2026, 10, 27, tzinfo=ZoneInfo("Europe/Paris")),
                "Europe/Paris",
            ],
        ),
    ]
    mismatches = []
    for session in ["UTC", "America/New_York", "Asia/Kolkata"]:
        con.execute(f"set TimeZone = '{session}'")
        for function in FUNCTIONS:
            for call, parameters in calls:
                if rows(con, f"select * from marts.{function}{call}", parameters) != reference[function]:
                    mismatches.append((session, function, call))
    con.close()
    assert not mismatches, mismatches


def test_a_null_bound_is_unbounded_on_its_side(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    wide = ("timestamp '1900-01-01'", "timestamp '3000-01-01'")
    cut = ("timestamp '2026-10-27 05:00:00'", "timestamp '2026-10-30 17:00:00'")
    for function in FUNCTIONS:
        call = f"select * from marts.{function}"
        assert rows(con, f"{call}(null, null)", drop_bounds=True) == rows(con, f"{call}({wide[0]}, {wide[1]})", drop_bounds=True)
        assert rows(con, f"{call}(null, {cut[1]})", drop_bounds=True) == rows(
            con, f"{call}({wide[0]}, {cut[1]})", drop_bounds=True
        )
        assert rows(con, f"{call}({cut[0]}, null)", drop_bounds=True) == rows(
            con, f"{call}({cut[0]}, {wide[1]})", drop_bounds=True
        )
        assert rows(con, f"{call}(?, ?)", [None, None], drop_bounds=True) == rows(con, f"{call}(null, null)", drop_bounds=True)
    shown = con.execute(
        f"select distinct period_start, period_end from marts.period_delivery_report_between(null, {cut[1]})"
    ).fetchall()
    assert shown == [(None, datetime(2026, 10, 30, 17))]
    con.close()


@pytest.mark.parametrize(
    ("arguments", "parameters", "named"),
    [
        (
            "(timestamp '2026-10-28', timestamp '2026-10-26')",
            [],
            ["period_end (2026-10-26 00:00:00)", "period_start (2026-10-28 00:00:00)"],
        ),
        (
            "(timestamp '2031-10-28', timestamp '2031-10-26')",
            [],
            ["period_end (2031-10-26 00:00:00)", "before period_start (2031-10-28"],
        ),
        (
            "(date '2026-10-28', date '2026-10-26', report_timezone := 'Europe/Paris')",
            [],
            ["period_end (2026-10-26)", "period_start (2026-10-28)"],
        ),
        (
            "(?, ?)",
            [datetime(2026, 10, 28), datetime(2026, 10, 26)],
            ["period_end (2026-10-26 00:00:00)", "period_start (2026-10-28 00:00:00)"],
        ),
        ("(timestamp '2026-10-26', timestamp '2026-10-28', report_timezone := 'Mars/Olympus_Mons')", [], ["Mars/Olympus_Mons"]),
        ("(timestamp '2026-10-26', timestamp '2026-10-28', report_timezone := null)", [], ["report_timezone is NULL"]),
        ("(42, timestamp '2026-10-28')", [], ["period_start has type INTEGER"]),
        ("('last tuesday', timestamp '2026-10-28')", [], ["period_start 'last tuesday' is not a timestamp"]),
        ("(timestamp '2026-10-26', '2026-13-45')", [], ["period_end '2026-13-45' is not a timestamp"]),
    ],
)
def test_arguments_that_would_mislead_are_errors_that_name_them(
    warehouse: Path, arguments: str, parameters: list, named: list[str]
) -> None:
    """Every function, with the report a BI tool asks for (one campaign, filtered outside)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    campaign = con.execute("select min(campaign_id) from marts.fct_deliveries").fetchone()[0]
    for function in FUNCTIONS:
        with pytest.raises(duckdb.Error) as raised:
            con.execute(f"select * from marts.{function}{arguments}", parameters).fetchall()
        for text in named:
            assert text in str(raised.value), (function, str(raised.value))
        if parameters and "campaign_id" in [
            c[0] for c in con.execute(f"describe select * from marts.{function}(null, null)").fetchall()
        ]:
            with pytest.raises(duckdb.Error):
                con.execute(
                    f"select * from marts.{function}{arguments} where campaign_id = ?", [*parameters, campaign]
                ).fetchall()
    con.close()


@pytest.mark.parametrize(("zone", "long_day"), [("Europe/Paris", date(2026, 10, 25)), ("America/New_York", date(2026, 11, 1))])
def test_days_are_calendar_days_in_the_zone_across_dst(warehouse: Path, zone: str, long_day: date) -> None:
    """Daily engagement per delivery and local day equals the message hours grouped by
    their zoneinfo local date, and so do the suppressions begun per day; a one-day period is
    25 hours long on the autumn DST day, 24 on another."""
    first, last = long_day - timedelta(days=2), long_day + timedelta(days=2)
    con = duckdb.connect(str(warehouse), read_only=True)
    expected: dict[tuple, int] = defaultdict(int)
    for campaign, execution, channel, hour, opens in con.execute(
        "select campaign_id, execution_id, channel, activity_hour, opens from marts.fct_message_hours where opens > 0"
    ).fetchall():
        local = hour.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).date()
        if first <= local <= last:
            expected[(campaign, execution, channel, local)] += opens
    found = {
        key[:4]: key[4]
        for key in con.execute(
            "select campaign_id, execution_id, channel, activity_date, opens from marts.period_engagement_daily_between(?, ?, report_timezone := ?) "
            "where opens > 0",
            [first, last + timedelta(days=1), zone],
        ).fetchall()
    }
    assert expected and found == dict(expected)
    suppressions: dict[tuple, int] = defaultdict(int)
    for channel, domain, since, _address in con.execute(
        "select distinct channel, coalesce(recipient_domain, 'unknown'), suppressed_since, recipient_address_hash "
        "from marts.fct_address_suppression_states where state != 'active'"
    ).fetchall():
        local = since.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).date()
        if first <= local <= last:
            suppressions[(local, channel, domain)] += 1
    daily = {
        (day, channel, domain): newly
        for day, channel, domain, newly in con.execute(
            "select day, channel, recipient_domain, newly_suppressed from marts.period_suppression_daily_between(?, ?, report_timezone := ?) "
            "where newly_suppressed > 0",
            [first, last + timedelta(days=1), zone],
        ).fetchall()
    }
    assert suppressions and daily == dict(suppressions)
    one_day = con.execute(
        "select distinct period_start, period_end from marts.period_delivery_report_between(?, ?, report_timezone := ?)",
        [long_day, long_day + timedelta(days=1), zone],
    ).fetchall()
    assert one_day == [(utc(str(long_day), zone), utc(str(long_day + timedelta(days=1)), zone))]
    assert (one_day[0][1] - one_day[0][0]) == timedelta(hours=25)
    other_day = con.execute(
        "select distinct period_start, period_end from marts.period_delivery_report_between(?, ?, report_timezone := ?)",
        [first, first + timedelta(days=1), zone],
    ).fetchall()
    assert (other_day[0][1] - other_day[0][0]) == timedelta(hours=24)
    con.close()
