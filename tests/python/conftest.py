"""Shared helpers: run the project's own command (tally) and dbt against throwaway warehouses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# The project's command, run the way a user runs it (`tally ...`), in this interpreter.
TALLY = [PYTHON, "-m", "tally"]
DBT = str(Path(PYTHON).with_name("dbt"))
RAW_TABLES = ["campaigns", "message_feedback_events", "message_tracking_events", "offer_propositions"]


def project_env(warehouse: Path | None = None) -> dict[str, str]:
    """The environment the project's command and dbt run with, against `warehouse`."""
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if warehouse is not None:
        env["WAREHOUSE_PATH"] = str(warehouse)
    return env


def run(args: list[str], warehouse: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=REPO, env=project_env(warehouse), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def load_folder(folder: Path, warehouse: Path, suffix: str) -> None:
    for table in RAW_TABLES:
        path = folder / f"{table}.{suffix}"
        if path.exists():
            run([*TALLY, "load", "--quiet", "--table", table, str(path)], warehouse)


def dbt(args: list[str], warehouse: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    # Own target dir per warehouse: tests may run dbt for several warehouses in turn.
    target = warehouse.parent / f"target_{warehouse.stem}"
    return run([DBT, *args, "--target-path", str(target)], warehouse, check)


# What a checkout generates (builds, logs, warehouses): never mirrored, so a test working in
# a mirror writes its own.
GENERATED = {".git", ".pytest_cache", "target", "logs", "warehouse", "exports", "incoming", ".tmp"}


def mirror_repo(folder: Path, with_venv: bool = True) -> Path:
    """`folder` made to look like the repository: a symlink to each of its top-level files
    and folders (and its .venv), except what a checkout generates. Commands run there (make,
    dbt, tally) read the project from the repository and write only into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in REPO.iterdir():
        if entry.name in GENERATED or entry.name.startswith(".venv") and not (with_venv and entry.name == ".venv"):
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
