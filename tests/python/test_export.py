"""tally export: the files it writes are the marts' rows. Run as the README writes it, on
the published sample: the period report of one campaign for Paris days as CSV (every
section equals its function called with those dates and zone, every value), the live
report as Parquet (every live relation, every campaign), one HTML file (every section, its
row count, nothing fetched from elsewhere), and bad arguments refused with exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, TALLY, dbt, load_folder, run
from tally.export import LIVE_SECTIONS, PERIOD_SECTIONS

# One dbt build and publish of the sample.
pytestmark = pytest.mark.slow

SAMPLE_VARS = '{report_as_of: "2026-11-04 06:00:00", period_start: "2026-11-02 00:00:00", period_end: "2026-11-06 00:00:00"}'
CAMPAIGN = "cmp_00000"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "warehouse.duckdb"
    load_folder(REPO / "data" / "sample", path, "csv")
    dbt(["build", "--exclude", "tag:golden", "--vars", SAMPLE_VARS], path)
    run([*TALLY, "publish"], path)
    return path


def same_rows(con: duckdb.DuckDBPyConnection, expected_sql: str, parameters: list, found_sql: str) -> tuple[int, int]:
    """Rows of both sides as text, compared both ways; returns (rows, differences)."""
    expected = con.execute(f"select columns(*)::varchar from ({expected_sql})", parameters).fetchall()
    found = con.execute(f"select columns(*)::varchar from ({found_sql})").fetchall()
    return len(expected), len(set(expected) ^ set(found)) + abs(len(expected) - len(found))


def test_period_report_as_csv_equals_the_functions(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "period"
    result = run(
        [*TALLY, "export", "period", "--period", "2026-11-02", "2026-11-05", "--timezone", "Europe/Paris"]
        + ["--campaign", CAMPAIGN, "--out", str(out)],
        warehouse,
    )
    assert sorted(Path(line).name for line in result.stdout.split()) == sorted(f"{s.name}.csv" for s in PERIOD_SECTIONS)
    con = duckdb.connect(str(warehouse.with_name("serving.duckdb")), read_only=True)
    total = 0
    for section in PERIOD_SECTIONS:
        where = " where campaign_id = ?" if section.by_campaign else ""
        expected = (
            f"select * from marts.{section.name}_between('2026-11-02', '2026-11-05', report_timezone := 'Europe/Paris'){where}"
        )
        parameters = [CAMPAIGN] if section.by_campaign else []
        rows, differences = same_rows(con, expected, parameters, f"select * from read_csv('{out / (section.name + '.csv')}')")
        assert differences == 0, section.name
        total += rows
    bounds = con.execute(
        "select distinct period_start, period_end from marts.period_delivery_report_between('2026-11-02', '2026-11-05', "
        "report_timezone := 'Europe/Paris')"
    ).fetchall()
    con.close()
    assert total > 20 and [(str(a), str(b)) for a, b in bounds] == [("2026-11-01 23:00:00", "2026-11-04 23:00:00")]


def test_live_report_as_parquet_and_html(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "live"
    run([*TALLY, "export", "live", "--format", "parquet", "--timezone", "Asia/Tokyo", "--out", str(out)], warehouse)
    con = duckdb.connect(str(warehouse.with_name("serving.duckdb")), read_only=True)
    for section in LIVE_SECTIONS:
        path = out / f"{section.name}.parquet"
        columns = [row[0] for row in con.execute(f"describe select * from read_parquet('{path}')").fetchall()]
        local = "hour_start_in_zone" in columns
        expected = f"select *{', hour_start + interval 9 hour' if local else ''} from marts.{section.name}"
        rows, differences = same_rows(con, expected, [], f"select * from read_parquet('{path}')")
        assert differences == 0, section.name
    page = tmp_path / "live.html"
    run([*TALLY, "export", "live", "--campaign", CAMPAIGN, "--format", "html", "--out", str(page)], warehouse)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and not re.search(r"(src|href)=\"https?:", text)
    headers = re.findall(r"<h2 id=\"([a-z_]+)\">[^<]*\(([0-9,]+) rows\)</h2>", text)
    counts = {
        section.name: con.execute(
            f"select count(*) from marts.{section.name} where campaign_id = ?" if section.by_campaign else "select 0",
            [CAMPAIGN] if section.by_campaign else [],
        ).fetchall()[0][0]
        for section in LIVE_SECTIONS
    }
    con.close()
    assert {name: int(count.replace(",", "")) for name, count in headers} == counts
    assert sum(counts.values()) > 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["period", "--period", "2026-11-05", "2026-11-02"], "period_end (2026-11-02) is before period_start (2026-11-05)"),
        (["period", "--period", "2026-11-02", "2026-11-05", "--timezone", "Mars/Olympus"], "Mars/Olympus"),
        (["live", "--campaign", "cmp_nope"], "no campaign 'cmp_nope'"),
        (["period"], "period needs --period START END"),
    ],
)
def test_bad_arguments_are_refused_with_exit_2(warehouse: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    result = run([*TALLY, "export", *arguments, "--out", str(tmp_path / "out")], warehouse, check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
