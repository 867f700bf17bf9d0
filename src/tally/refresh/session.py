"""dbt in this process for the live refresh: the project parsed once, the live selection
built, the failures named, and the DuckDB file released after every invocation."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally import settings
from tally.common import first_line
from tally.refresh.publish import PublishPlan

REPO_ROOT = settings.REPO_ROOT


DBT_SELECTION = [
    # The lookup seeds the live models read are reloaded too (a few rows, ~0.1 s each), so a
    # first refresh on a new warehouse works and a changed lookup applies at once.
    # tag:serving: the hourly facts the published period functions read.
    "--select",
    "+tag:live,resource_type:model",
    "+tag:live,resource_type:seed",
    "+tag:serving,resource_type:model",
    "tag:live_tests",
    "--indirect-selection",
    "empty",
    "--exclude",
    "tag:golden",
    "tag:cross_report",
    "resource_type:unit_test",
]


# The table functions and their catalog are definitions, not data: a refresh creates them
# only when the working warehouse has none yet (a first refresh, before any full build).
FUNCTIONS_SELECTION = ["+tag:serving_functions,resource_type:model"]


@dataclass
class DbtFailure:
    node: str
    message: str


class DbtSession:
    """dbt in this process: the project is parsed once and the manifest reused by every
    refresh (a child `dbt` process pays ~2 s of start-up and parsing each time). After each
    invocation the DuckDB file is released, so the loader and the publish can open it."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self.manifest: Any = None

    def _invoke(self, args: list[str]) -> Any:
        from dbt.cli.main import dbtRunner

        os.environ["WAREHOUSE_PATH"] = str(self.warehouse)
        os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        try:
            return dbtRunner(manifest=self.manifest).invoke([*args, "--project-dir", str(REPO_ROOT)])
        finally:
            release_duckdb()

    def build(self, report_as_of: str | None, with_functions: bool) -> tuple[list[DbtFailure], PublishPlan]:
        """Runs the live selection; returns the failed nodes (empty when all passed) and the
        incremental relations' keys, for a publish that syncs those by key."""
        if self.manifest is None:
            parsed = self._invoke(["--quiet", "parse"])
            if not parsed.success:
                return [DbtFailure("dbt parse", first_line(parsed.exception, 500))], PublishPlan()
            self.manifest = parsed.result
        # --no-write-json: no artifact rewrite (~0.3 s); the result object carries the statuses.
        args = ["--quiet", "--no-write-json", "build", *DBT_SELECTION]
        if with_functions:
            args[args.index("--indirect-selection") : args.index("--indirect-selection")] = FUNCTIONS_SELECTION
        if report_as_of:
            args += ["--vars", json.dumps({"report_as_of": report_as_of})]
        result = self._invoke(args)
        if result.exception is not None:
            return [DbtFailure("dbt build", first_line(result.exception, 500))], PublishPlan()
        node_results = result.result.results if result.result is not None else []
        failures = [
            DbtFailure(node_result.node.unique_id, first_line(node_result.message, 500))
            for node_result in node_results
            if str(node_result.status) in ("error", "fail")
        ]
        if not result.success and not failures:
            failures.append(DbtFailure("dbt build", "failed without naming a node"))
        keys = {
            node.alias: node.config.unique_key
            for node in self.manifest.nodes.values()
            if node.resource_type == "model"
            and node.config.materialized == "incremental"
            and isinstance(node.config.unique_key, str)
        }
        return failures, PublishPlan(keys=keys)


def has_table_functions(warehouse: Path) -> bool:
    """The working warehouse already holds the period table functions and their catalog."""
    if not warehouse.exists():
        return False
    con = settings.connect_read_only(warehouse)
    try:
        return bool(
            con.execute(
                "select count(*) from duckdb_functions() where schema_name = 'marts' and function_type = 'table_macro'"
            ).fetchone()[0]
        ) and bool(
            con.execute(
                "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'period_table_functions'"
            ).fetchone()[0]
        )
    finally:
        con.close()


def release_duckdb() -> None:
    """dbt-duckdb keeps its database open for the life of the process: close it."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
