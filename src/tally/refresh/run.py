"""One live refresh: load the new files, build the live selection with dbt, publish; one
at a time (a lock), logged in the refresh log. The command is tally.refresh.command."""

from __future__ import annotations

import fcntl
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tally import contract, settings
from tally.common import first_line, utc_now
from tally.load import RefusedFile, flat
from tally.load.lake import load_lake
from tally.refresh.publish import publish, publish_failure
from tally.refresh.session import DbtFailure, DbtSession
from tally.refresh.spark import SparkPaths, ensure_functions, stop_spark, sync_mirror


class Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: dict[str, float] = {}

    def step(self, name: str, started: float, detail: str = "") -> None:
        seconds = time.perf_counter() - started
        self.steps[name] = round(seconds, 3)
        print(f"  {name:<10s} {seconds:6.2f} s  {detail}", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.started


def table_for(path: Path) -> str:
    """The raw table a file belongs to, from its name (message_feedback_events-0001.parquet...)."""
    if not path.exists():
        raise RefusedFile(f"{path}: the file does not exist", path)
    for table in sorted(contract.CONTRACT, key=len, reverse=True):
        if path.name.startswith(table):
            return table
    raise RefusedFile(
        f"{path}: cannot tell its raw table; the file name must start with one of {', '.join(contract.CONTRACT)}",
        path,
    )


def group_files(files: list[Path]) -> Iterator[tuple[str, list[Path]]]:
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(table_for(path), []).append(path)
    # Campaigns first, so that events never reference a campaign loaded later in the same run.
    for table in sorted(groups, key=lambda t: (t != "campaigns", t)):
        yield table, groups[table]


def append_log(warehouse: Path, record: dict[str, Any]) -> None:
    with settings.refresh_log_path(warehouse).open("a") as log:
        log.write(json.dumps(record, default=str) + "\n")


@dataclass
class LandingHooks:
    """What the watch service does around each load: `before_commit(paths)` raises
    FileChanged to roll the load back; `after_commit(paths)` takes the files away at once."""

    before_commit: Callable[[list[Path]], None] | None = None
    after_commit: Callable[[list[Path]], None] = lambda paths: None


@dataclass
class Refresher:
    """`warehouse`: the working DuckDB file, or with `spark` (the Spark target's lake and
    work folder) the mirror the publish reads Spark's marts through (tally.refresh.spark)."""

    warehouse: Path
    serving: Path
    include_message_facts: bool = False
    spark: SparkPaths | None = None
    dbt: DbtSession = field(init=False)

    def __post_init__(self) -> None:
        if self.spark is not None:
            self.spark.export()
        self.dbt = DbtSession(self.warehouse, "dev" if self.spark is None else "spark")

    def close(self) -> None:
        """Spark: ends the session the refreshes of this process shared."""
        if self.spark is not None:
            stop_spark()

    def run(
        self, files: list[Path], report_as_of: str | None, publish_only: bool = False, landing: LandingHooks | None = None
    ) -> int:
        """One refresh. Exit code: 0 published, 1 failed (previous publish kept), 2 input
        refused (nothing loaded), 3 another refresh holds the lock. `landing`: the watch
        service's checks around each load (tally.refresh.watch.Settling)."""
        lock_path = self.warehouse.with_name(self.warehouse.name + ".refresh.lock")
        if publish_only and self.spark is None and not self.warehouse.exists():
            print(f"no warehouse at {self.warehouse}: build one first (make demo, or dbt build)", file=sys.stderr)
            return 2
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"another refresh holds {lock_path}; skipping this run", file=sys.stderr)
                return 3
            return self._run_locked(files, report_as_of, publish_only, landing or LandingHooks())

    def _run_locked(self, files: list[Path], report_as_of: str | None, publish_only: bool, landing: LandingHooks) -> int:
        timer = Timer()
        started_at = utc_now()
        record: dict[str, Any] = {"started_at": started_at, "files": [str(path.resolve()) for path in files]}
        print(f"refresh of {self.warehouse} -> {self.serving}", flush=True)
        if not publish_only:
            started = time.perf_counter()
            # Every file is checked before any is loaded: one refused file loads nothing.
            checked = [(table, flat.check_files(table, paths)) for table, paths in group_files(files)]
            for table, prepared in checked:
                if self.spark is None:
                    flat.load_prepared(self.warehouse, table, prepared, quiet=True, before_commit=landing.before_commit)
                else:
                    load_lake(self.spark.lake, table, prepared, quiet=True, before_commit=landing.before_commit)
                landing.after_commit([item.path for item in prepared])
            timer.step("load", started, f"{len(files)} file(s)")
            started = time.perf_counter()
            failures, plan = self.dbt.build(report_as_of)
            left_out = f"; {len(self.dbt.skipped)} unchanged view(s)/seed(s) left out" if self.dbt.skipped else ""
            timer.step("dbt build", started, f"live marts and upstream, live tests{left_out}")
            record["dbt_left_out"] = self.dbt.skipped
            if failures:
                return self._fail(record, failures)
        else:
            plan = None
        if self.spark is not None:
            failure = self._mirror(timer)
            if failure is not None:
                return self._fail(record, [failure])
        started = time.perf_counter()
        status = {"refresh_started_at": started_at, "files_loaded": len(files), "failures_since_publish": 0}
        summary = publish(self.warehouse, self.serving, status, self.include_message_facts, plan)
        timer.step("publish", started, f"{summary} -> {self.serving.name}")
        print(f"  {'total':<10s} {timer.total():6.2f} s", flush=True)
        record.update(
            status="published",
            published_at=status["published_at"],
            report_as_of=status.get("report_as_of"),
            window_end=status.get("window_end"),
            seconds=round(timer.total(), 3),
            step_seconds=timer.steps,
        )
        append_log(self.warehouse, record)
        return 0

    def _mirror(self, timer: Timer) -> DbtFailure | None:
        """Spark: the mirror's views brought up to the tables' current versions, and the
        table functions created in it when missing or changed; the failure, if any."""
        assert self.spark is not None
        started = time.perf_counter()
        failure = self.dbt.parse()  # --publish-only: the models to publish come from the project
        if failure is not None:
            return failure
        try:
            summary = sync_mirror(self.spark, self.dbt.manifest)
            if ensure_functions(self.spark, settings.REPO_ROOT):
                summary += "; table functions created"
        except (ValueError, RuntimeError, OSError) as error:
            return DbtFailure("mirror of the Spark marts", first_line(error, 500))
        timer.step("mirror", started, summary)
        return None

    def _fail(self, record: dict[str, Any], failures: list[DbtFailure]) -> int:
        first = failures[0]
        more = f"; {len(failures) - 1} more failed node(s)" if len(failures) > 1 else ""
        failure = f"{first.node}: {first.message}{more}"
        failed_at = utc_now()
        kept = publish_failure(self.serving, failed_at, failure)
        print(
            f"refresh failed at {failure}; "
            + ("previous publish kept, failure recorded in marts.publish_status" if kept else "nothing published yet"),
            file=sys.stderr,
            flush=True,
        )
        record.update(status="failed", failed_at=failed_at, failed_node=first.node, reason=failure)
        append_log(self.warehouse, record)
        return 1
