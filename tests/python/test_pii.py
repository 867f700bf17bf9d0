"""PII never goes past staging: every string column of every model after raw (staging's
hashed views, intermediate, marts, seeds) and of the published serving file is scanned for
the recipient addresses the raw feed holds (emails, phone numbers, device tokens, postal
addresses, matched exactly) and for anything shaped like an email or an E.164 phone number."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import TALLY, dbt, run

# Every test reads a warehouse built by dbt (module fixture).
pytestmark = pytest.mark.slow

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE = r"(^|[^0-9])\+[0-9]{8,15}([^0-9]|$)|^[0-9][0-9 .()-]{7,18}[0-9]$"


def leaks(con: duckdb.DuckDBPyConnection, catalog: str, skip_schemas: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """(table, column, rows) for every string column holding a raw address or an email- or
    phone-shaped value. `pii(address)` must exist in the connection."""
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = ? and data_type = 'VARCHAR' and table_schema not in (select unnest(?::varchar[])) "
        "order by all",
        [catalog, list(skip_schemas)],
    ).fetchall()
    assert columns, f"no string column found in {catalog}"
    found = []
    for schema, table, column in columns:
        value = f'"{column}"'
        hits = con.execute(
            f'select count(*) from {catalog}."{schema}"."{table}" '
            f"where {value} in (select address from pii) or lower({value}) in (select lower(address) from pii) "
            f"or regexp_matches({value}, '{EMAIL}') or regexp_matches({value}, '{PHONE}')"
        ).fetchone()[0]
        if hits:
            found.append((f"{schema}.{table}", column, hits))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pii")
    data = root / "events"
    run([*TALLY, "generate", "--events", "20000", "--days", "3", "--seed", "5", "--out", str(data)])
    warehouse = root / "warehouse.duckdb"
    for path in sorted(data.glob("*.parquet")):
        run([*TALLY, "load", "--quiet", "--warehouse", str(warehouse), "--table", path.stem, str(path)])
    dbt(
        ["build", "--exclude", "tag:golden", "resource_type:unit_test", "--vars", '{report_as_of: "2026-11-04 06:00:00"}'],
        warehouse,
    )
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--publish-only"])
    return warehouse


def connect_with_addresses(warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as working (read_only)")
    con.execute(
        "create temp table pii as select distinct trim(recipient_address) as address "
        "from working.raw.message_feedback_events where length(trim(recipient_address)) >= 6"
    )
    return con


def test_raw_feed_has_every_kind_of_address(built: Path) -> None:
    # Without this the scan below could pass on a feed with nothing to leak.
    con = connect_with_addresses(built)
    kinds = con.execute(
        "select count(*) filter (address like '%@%'), count(*) filter (address like '+%'), "
        "count(*) filter (regexp_matches(address, '^[0-9a-f]{64}$')), count(*) filter (address like '% rue %') from pii"
    ).fetchone()
    assert all(kinds), kinds


def test_no_address_past_raw_in_the_warehouse(built: Path) -> None:
    con = connect_with_addresses(built)
    assert leaks(con, "working", ("raw",)) == []


def test_no_address_in_the_serving_file(built: Path) -> None:
    con = connect_with_addresses(built)
    con.execute(f"attach '{built.with_name('serving.duckdb')}' as serving (read_only)")
    assert leaks(con, "serving", ()) == []


def test_the_scan_finds_a_planted_address(built: Path, tmp_path: Path) -> None:
    con = connect_with_addresses(built)
    token = con.execute("select address from pii where regexp_matches(address, '^[0-9a-f]{64}$') limit 1").fetchone()[0]
    con.execute(f"attach '{tmp_path / 'planted.duckdb'}' as planted")
    con.execute("create table planted.main.leaky (note varchar, other varchar)")
    con.execute(
        "insert into planted.main.leaky values ('contact jane.doe@example.org', 'x'), ('ok', ?), ('+33612345678', 'y')", [token]
    )
    assert sorted(leaks(con, "planted", ())) == [("main.leaky", "note", 2), ("main.leaky", "other", 1)]
