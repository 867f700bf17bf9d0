"""What a Delta table holds now, read from its transaction log without Spark: the Parquet
files of its current version and its schema. The live refresh on Spark publishes the marts
from these files (tally.refresh.spark) and the engine tests read Spark's tables with them.

The log is replayed as Delta's protocol defines it: the newest checkpoint named by
`_delta_log/_last_checkpoint` (a Parquet file of the table's actions at that version), then
every JSON commit after it, in order; an `add` makes a file current, a `remove` ends it, the
last `metaData` holds the schema. What this reader cannot read is refused, never skipped:
deletion vectors (rows deleted inside a file: Delta leaves them off unless a table enables
them), column mapping (file columns named apart from the table's), V2 and multi-part
checkpoints, and a log with a gap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb

# Spark SQL's type names in a Delta schema -> DuckDB's. Timestamps: Spark's `timestamp`
# is an instant, written as UTC; the project's session time zone is UTC, so the UTC wall
# clock is the value the other engines hold as a plain timestamp.
SIMPLE_TYPES = {
    "string": "varchar",
    "long": "bigint",
    "integer": "integer",
    "short": "smallint",
    "byte": "tinyint",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
    "binary": "blob",
}


class DeltaLogError(ValueError):
    """The log is not one this reader replays (it says why)."""


@dataclass
class DeltaTable:
    """A Delta table's current version: its data files (absolute paths), its columns as
    (name, DuckDB type) in table order, and its partition columns."""

    version: int
    files: list[Path]
    columns: list[tuple[str, str]]
    partition_columns: list[str] = field(default_factory=list)


def duckdb_type(spark_type: Any) -> str:
    if isinstance(spark_type, str):
        if spark_type in SIMPLE_TYPES:
            return SIMPLE_TYPES[spark_type]
        if spark_type.startswith("decimal("):
            return spark_type
    raise DeltaLogError(f"no DuckDB type for the Delta column type {spark_type!r}")


def is_delta_table(table: Path) -> bool:
    return (table / "_delta_log").is_dir()


def _checkpoint_actions(log: Path) -> tuple[int, list[dict[str, Any]]]:
    """The version of the newest checkpoint and its actions; (-1, []) when there is none."""
    pointer = log / "_last_checkpoint"
    if not pointer.exists():
        return -1, []
    last = json.loads(pointer.read_text())
    version = int(last["version"])
    if last.get("parts") or "v2Checkpoint" in last:
        raise DeltaLogError(f"{log}: multi-part and V2 checkpoints are not read here")
    checkpoint = log / f"{version:020d}.checkpoint.parquet"
    if not checkpoint.exists():
        raise DeltaLogError(f"{log}: _last_checkpoint names version {version}, whose checkpoint file is missing")
    con = duckdb.connect()
    try:
        names = {row[0] for row in con.execute("select name from parquet_schema(?)", [str(checkpoint)]).fetchall()}
        wanted = [column for column in ("add", "metaData", "protocol") if column in names]
        rows = con.execute(
            f"select {', '.join(f'to_json({column})' for column in wanted)} from read_parquet(?)", [str(checkpoint)]
        ).fetchall()
    finally:
        con.close()
    actions = []
    for row in rows:
        for column, value in zip(wanted, row, strict=True):
            if value is not None and value != "null":
                actions.append({column: json.loads(value)})
    return version, actions


def read_table(table: Path) -> DeltaTable:
    """The current version of the Delta table in folder `table`."""
    log = table / "_delta_log"
    if not log.is_dir():
        raise DeltaLogError(f"{table}: no _delta_log: not a Delta table")
    start, actions = _checkpoint_actions(log)
    commits = sorted(path for path in log.glob("[0-9]*.json") if int(path.stem) > start)
    expected = list(range(start + 1, start + 1 + len(commits)))
    if [int(path.stem) for path in commits] != expected:
        raise DeltaLogError(f"{table}: the Delta log has a gap after version {start}")
    for commit in commits:
        actions.extend(json.loads(line) for line in commit.read_text().splitlines() if line.strip())
    active: dict[str, Path] = {}
    metadata: dict[str, Any] | None = None
    for action in actions:
        if "add" in action:
            if action["add"].get("deletionVector"):
                raise DeltaLogError(f"{table}: deletion vectors are not read here")
            # Paths are relative URIs: a partition value's space or colon is %-encoded.
            active[action["add"]["path"]] = table / unquote(action["add"]["path"])
        elif "remove" in action:
            active.pop(action["remove"]["path"], None)
        elif "metaData" in action:
            metadata = action["metaData"]
        elif "protocol" in action and "deletionVectors" in (action["protocol"].get("readerFeatures") or []):
            # The feature may be on with no vector written yet: a later write could add one.
            raise DeltaLogError(f"{table}: deletion vectors are enabled; this reader does not apply them")
    if metadata is None:
        raise DeltaLogError(f"{table}: the Delta log holds no metaData action")
    if (metadata.get("configuration") or {}).get("delta.columnMapping.mode", "none") != "none":
        raise DeltaLogError(f"{table}: column mapping is on; this reader reads columns by their names")
    schema = json.loads(metadata["schemaString"])
    columns = [(item["name"], duckdb_type(item["type"])) for item in schema["fields"]]
    version = start + len(commits) if commits else start
    return DeltaTable(version, sorted(active.values()), columns, list(metadata.get("partitionColumns") or []))
