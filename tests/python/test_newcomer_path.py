"""The newcomer's path on their own data (issue 21, item 7): each defect a new user met,
checked where it was, in process where it can be (the fast loop), through make where the
Makefile was the defect."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, mirror_repo, project_env
from tally.cli import main as tally
from tally.report import CAMPAIGN_COLUMNS, DELIVERY_COLUMNS

HEADER = "event_id,event_ts,campaign_id,execution_id,message_id,profile_id,channel,status,failure_type,reason"


def own_events(folder: Path, name: str = "own-feedback.csv") -> Path:
    path = folder / name
    path.write_text(f"{HEADER}\nown1,2026-12-01 10:00:00,c,x,m,p,email,sent,,\n", encoding="utf-8")
    return path


def count(warehouse: Path, sql: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def make(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=cwd, env=env or project_env(), capture_output=True, text=True
    )


def env_without_warehouse() -> dict[str, str]:
    env = project_env()
    env.pop("WAREHOUSE_PATH", None)
    return env


# 1. make build is the hourly full build on the user's data: no sample vars, then publish.


def test_make_build_runs_no_sample_vars_and_publishes() -> None:
    recipe = make(["-n", "build"], REPO, env_without_warehouse()).stdout
    build_lines = [line for line in recipe.splitlines() if "dbt build" in line]
    assert build_lines and all("--vars" not in line for line in build_lines), recipe
    assert "golden_sample" not in recipe and "2026-11-04" not in recipe
    assert "tally publish" in recipe.split("dbt build")[-1], recipe


def test_make_demo_builds_with_the_sample_vars_internally() -> None:
    recipe = make(["-n", "demo"], REPO, env_without_warehouse()).stdout
    assert "dbt build --vars" in recipe and "golden_sample: true" in recipe, recipe
    assert "tally publish" in recipe and "tally report" in recipe


# 2. After loading one's own events, the dashboard says to publish; make demo never loads
#    the sample into a user's warehouse.


def test_dashboard_without_a_publish_says_to_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SERVING_PATH", str(tmp_path / "serving.duckdb"))
    assert tally(["dashboard"]) == 2
    error = capsys.readouterr().err
    assert "tally publish" in error and "make publish" in error, error


def test_make_demo_never_loads_the_sample_into_a_users_warehouse(tmp_path: Path) -> None:
    mirror = mirror_repo(tmp_path / "checkout")
    prod = tmp_path / "prod.duckdb"
    assert tally(["load", "--warehouse", str(prod), "--table", "message_feedback_events", str(own_events(tmp_path))]) == 0
    before = count(prod, "select count(*) from raw.message_feedback_events")
    # An exported WAREHOUSE_PATH (the README's own-data lines) is not the demo's: the
    # sample goes into the demo warehouse of the checkout.
    env = dict(env_without_warehouse(), WAREHOUSE_PATH=str(prod))
    result = make(["load-sample"], mirror, env)
    assert result.returncode == 0, result.stderr
    assert count(prod, "select count(*) from raw.message_feedback_events") == before
    assert count(mirror / "warehouse" / "warehouse.duckdb", "select count(*) from raw.message_feedback_events") > 1000
    # Named on make's command line, a warehouse of one's own events is refused, clearly.
    result = make(["load-sample", f"WAREHOUSE_PATH={prod}"], mirror, env_without_warehouse())
    assert result.returncode != 0
    assert "refused" in result.stderr and "not the bundled sample" in result.stderr and str(prod) in result.stderr
    assert count(prod, "select count(*) from raw.message_feedback_events") == before


# 3. and 5. tally report: an unbuilt warehouse says what to run; --limit bounds every table.


def test_report_on_a_loaded_but_unbuilt_warehouse_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert tally(["load", "--warehouse", str(warehouse), "--table", "message_feedback_events", str(own_events(tmp_path))]) == 0
    capsys.readouterr()
    assert tally(["report", "--warehouse", str(warehouse)]) == 2
    error = capsys.readouterr().err
    assert "dbt build" in error and str(warehouse) in error, error


def fake_marts(warehouse: Path, rows: int) -> None:
    """The relations tally report reads, with `rows` rows each (no dbt needed)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema marts")
        for table, columns in [
            ("live_campaign_statistics", CAMPAIGN_COLUMNS),
            ("live_delivery_statistics", DELIVERY_COLUMNS),
            ("fct_deliveries", DELIVERY_COLUMNS),
        ]:
            select = ", ".join(f"'{column}' || i as {column}" for column in columns)
            con.execute(f"create table marts.{table} as select {select} from range({rows}) t(i)")
    finally:
        con.close()


def test_report_limit_bounds_every_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = tmp_path / "w.duckdb"
    fake_marts(warehouse, 5)
    assert tally(["report", "--warehouse", str(warehouse), "--limit", "2"]) == 0
    titles = [line for line in capsys.readouterr().out.splitlines() if line.endswith("rows)")]
    assert len(titles) == 3 and all(title.endswith("(2 rows)") for title in titles), titles


# 4. tally refresh on a file that does not exist says so.


def test_refresh_of_a_missing_file_says_it_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = tmp_path / "w.duckdb"
    missing = tmp_path / "does-not-exist.parquet"
    assert tally(["refresh", "--warehouse", str(warehouse), str(missing)]) == 2
    error = capsys.readouterr().err
    assert "does not exist" in error and str(missing) in error and "cannot tell its raw table" not in error, error
    assert not warehouse.exists()


# 7. make clean removes what the project generates, never another warehouse.


def test_make_clean_keeps_every_warehouse_but_its_own(tmp_path: Path) -> None:
    mirror = mirror_repo(tmp_path / "checkout")
    folder = mirror / "warehouse"
    folder.mkdir()
    # The README's own-data warehouse, in a folder of its own, with its serving file beside it.
    prod = folder / "prod" / "warehouse.duckdb"
    assert tally(["load", "--warehouse", str(prod), "--table", "message_feedback_events", str(own_events(tmp_path))]) == 0
    prod.with_name("serving.duckdb").write_text("a user's file")
    prod_part = prod.with_name("serving.duckdb.parts") / "fct_message_hours" / "2026-11-01.1.parquet"
    prod_part.parent.mkdir(parents=True)
    prod_part.write_text("a user's Parquet file")
    demo = folder / "warehouse.duckdb"
    sample = REPO / "data" / "sample" / "campaigns.csv"
    assert tally(["load", "--warehouse", str(demo), "--table", "campaigns", str(sample)]) == 0
    generated = [
        mirror / "target" / "manifest.json",
        mirror / "logs" / "dbt.log",
        folder / "test.duckdb",
        folder / "lint.duckdb",
        folder / "serving.duckdb",
        folder / "serving.duckdb.parts" / "fct_message_hours" / "2026-11-01.1.parquet",
        folder / "pytest-engines" / "x",
    ]
    for path in generated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("generated")
    result = make(["clean"], mirror, env_without_warehouse())
    assert result.returncode == 0, result.stderr
    assert prod.exists() and prod.with_name("serving.duckdb").read_text() == "a user's file" and prod_part.exists()
    assert not (folder / "serving.duckdb.parts").exists()
    assert not demo.exists() and not any(path.exists() for path in generated), sorted(map(str, mirror.rglob("*")))
    # A demo warehouse path holding one's own events (loaded without WAREHOUSE_PATH) is kept.
    assert tally(["load", "--warehouse", str(demo), "--table", "message_feedback_events", str(own_events(tmp_path))]) == 0
    result = make(["clean"], mirror, env_without_warehouse())
    assert result.returncode == 0, result.stderr
    assert demo.exists() and "kept" in result.stderr and prod.exists()


# 8. The first install says what is happening and how long it takes, and shows pip's progress.


def test_first_install_says_what_it_does_and_shows_progress(tmp_path: Path) -> None:
    mirror = mirror_repo(tmp_path / "checkout", with_venv=False)
    recipe = make(["-n", "install"], mirror, env_without_warehouse()).stdout
    announce = [line for line in recipe.splitlines() if line.startswith("echo") and "minutes" in line]
    assert len(announce) == 1, recipe
    requirements = [line for line in recipe.splitlines() if "pip install" in line and "-r requirements.txt" in line]
    assert requirements and "--quiet" not in requirements[0], recipe
    assert not (mirror / ".venv").exists()


def test_make_clean_on_a_checkout_without_venv_keeps_warehouses(tmp_path: Path) -> None:
    mirror = mirror_repo(tmp_path / "checkout", with_venv=False)
    demo = mirror / "warehouse" / "warehouse.duckdb"
    demo.parent.mkdir()
    assert tally(["load", "--warehouse", str(demo), "--table", "message_feedback_events", str(own_events(tmp_path))]) == 0
    result = make(["clean"], mirror, env_without_warehouse())
    assert result.returncode == 0, result.stderr
    assert demo.exists()
