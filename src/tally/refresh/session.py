"""dbt in this process for the live refresh: the project parsed once, the live selection
built, the failures named, and the DuckDB file released after every invocation. On Spark
(target `spark`), the Spark session dbt starts in this process lives as long as it does."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally import settings
from tally.common import first_line
from tally.refresh import unchanged
from tally.refresh.publish import PublishPlan

REPO_ROOT = settings.REPO_ROOT


DBT_SELECTION = [
    # The lookup seeds the live models read are in the selection, so a first refresh on a new
    # warehouse works and a changed lookup applies at once; a seed (or view) whose file and
    # table are unchanged since the last refresh is left out (tally.refresh.unchanged).
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

    def __init__(self, warehouse: Path, target: str = "dev") -> None:
        self.warehouse = warehouse
        # "dev" (DuckDB, the working warehouse at `warehouse`, through the profile's default
        # target) or "spark" (profiles.yml's spark output).
        self.target = target
        self.manifest: Any = None
        self.macros = ""
        # The last build's nodes: those it ran, and the unchanged views and seeds it left out.
        self.ran: list[str] = []
        self.skipped: list[str] = []
        # The last build's node results, each with its execution_time: where a refresh's time went.
        self.last_results: list[Any] = []

    def _invoke(self, args: list[str]) -> Any:
        from dbt.cli.main import dbtRunner

        if self.target == "dev":
            os.environ["WAREHOUSE_PATH"] = str(self.warehouse)
        os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        try:
            extra = ["--project-dir", str(REPO_ROOT)]
            if self.target != "dev":
                # DuckDB keeps the profile's default target ($DBT_TARGET, else dev), as before.
                extra += ["--target", self.target]
                if "DBT_TARGET_PATH" not in os.environ:
                    # As `make build-spark`: each target its own partial parse and artifacts.
                    extra += ["--target-path", str(REPO_ROOT / "target" / self.target)]
            return dbtRunner(manifest=self.manifest).invoke([*args, *extra])
        finally:
            if self.target == "dev":
                release_duckdb()

    def build(self, report_as_of: str | None) -> tuple[list[DbtFailure], PublishPlan]:
        """Runs the live selection, less the views and seeds unchanged since the last refresh;
        returns the failed nodes (empty when all passed) and the incremental relations'
        keys, for a publish that syncs those by key."""
        self.ran, self.skipped = [], []
        failure = self.parse()
        if failure is not None:
            return [failure], PublishPlan()
        if self.target == "dev":
            nodes = unchanged.candidates(self.manifest)
            definitions = {node.unique_id: unchanged.definition(self.manifest, node, self.macros, REPO_ROOT) for node in nodes}
            state = unchanged.read_state(self.warehouse)
            with_functions, skipped = self._inspect(nodes, definitions, state)
        else:
            # Spark: no table functions, and every selected node runs (the unchanged-view
            # check reads DuckDB's catalog).
            nodes, definitions, state, with_functions, skipped = [], {}, {}, False, []
        # --no-write-json: no artifact rewrite (~0.3 s); the result object carries the statuses.
        # The log file keeps warnings and errors only: writing every statement's SQL to it cost
        # about a sixth of the build's CPU (DBT_LOG_LEVEL_FILE=debug brings it back).
        args = ["--quiet", "--no-write-json", "build", *DBT_SELECTION]
        if "DBT_LOG_LEVEL_FILE" not in os.environ:
            args[1:1] = ["--log-level-file", "warn"]
        if with_functions:
            args[args.index("--indirect-selection") : args.index("--indirect-selection")] = FUNCTIONS_SELECTION
        at = args.index("--exclude") + 1
        args[at:at] = [f"fqn:{'.'.join(node.fqn)}" for node in skipped]
        if report_as_of:
            args += ["--vars", json.dumps({"report_as_of": report_as_of})]
        self.skipped = sorted(node.unique_id for node in skipped)
        result = self._invoke(args)
        node_results = result.result.results if result.exception is None and result.result is not None else []
        self.last_results = node_results
        self.ran = [node_result.node.unique_id for node_result in node_results]
        if self.target == "dev":
            self._record(nodes, definitions, state, node_results)
        if result.exception is not None:
            return [DbtFailure("dbt build", first_line(result.exception, 500))], PublishPlan()
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

    def parse(self) -> DbtFailure | None:
        """Parses the project once per session (the manifest is then reused); the failure, if any."""
        if self.manifest is not None:
            return None
        parsed = self._invoke(["--quiet", "parse"])
        if not parsed.success:
            return DbtFailure("dbt parse", first_line(parsed.exception, 500))
        self.manifest = parsed.result
        self.macros = unchanged.macros_digest(self.manifest)
        return None

    def _inspect(
        self, nodes: list[Any], definitions: dict[str, str | None], state: dict[str, dict[str, str]]
    ) -> tuple[bool, list[Any]]:
        """One look at the warehouse before dbt: whether the table functions must be created,
        and which views and seeds are unchanged since the refresh that built them."""
        if not self.warehouse.exists():
            return True, []
        con = settings.connect_read_only(self.warehouse)
        try:
            return not has_table_functions(con), unchanged.unchanged(con, nodes, definitions, state)
        finally:
            con.close()

    def _record(
        self, nodes: list[Any], definitions: dict[str, str | None], state: dict[str, dict[str, str]], results: list[Any]
    ) -> None:
        """After dbt: each view and seed it built records its definition and what it stored;
        one that failed, or that the build may have left half done, loses its record."""
        outcome = {node_result.node.unique_id: str(node_result.status) for node_result in results}
        touched = [node for node in nodes if node.unique_id in outcome]
        if not touched:
            return
        con = settings.connect_read_only(self.warehouse)
        try:
            for node in touched:
                fingerprint, now = definitions.get(node.unique_id), None
                if outcome[node.unique_id] == "success" and fingerprint is not None:
                    now = unchanged.stored(con, node)
                if now is None:
                    state.pop(node.unique_id, None)
                else:
                    state[node.unique_id] = {"definition": fingerprint, "stored": now}
        finally:
            con.close()
        unchanged.write_state(self.warehouse, state)


def has_table_functions(con: Any) -> bool:
    """The working warehouse already holds the period table functions and their catalog."""
    return bool(
        con.execute(
            "select count(*) from duckdb_functions() where schema_name = 'marts' and function_type = 'table_macro'"
        ).fetchone()[0]
    ) and bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'period_table_functions'"
        ).fetchone()[0]
    )


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
