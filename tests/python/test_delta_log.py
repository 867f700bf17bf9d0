"""The Delta log reader behind the Spark refresh's publish (tally.delta_log), on logs written
here by hand as Delta's protocol lays them out: the current files after adds and removes,
a checkpoint followed by commits, the schema and partition columns, and the refusals (a
gap, deletion vectors, column mapping, a checkpoint named but missing). A Spark-written log
with a checkpoint is read in tests/engines/test_spark_refresh.py."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tally.delta_log import DeltaLogError, read_table

SCHEMA = {
    "type": "struct",
    "fields": [
        {"name": "campaign_id", "type": "string", "nullable": True, "metadata": {}},
        {"name": "activity_hour", "type": "timestamp", "nullable": True, "metadata": {}},
        {"name": "sent", "type": "long", "nullable": True, "metadata": {}},
        {"name": "rate", "type": "decimal(10,4)", "nullable": True, "metadata": {}},
        {"name": "activity_date", "type": "date", "nullable": True, "metadata": {}},
    ],
}


def metadata(configuration: dict[str, str] | None = None) -> dict:
    return {
        "metaData": {
            "id": "t",
            "format": {"provider": "parquet", "options": {}},
            "schemaString": json.dumps(SCHEMA),
            "partitionColumns": ["activity_date"],
            "configuration": configuration or {},
        }
    }


def add(path: str, **extra: object) -> dict:
    return {"add": {"path": path, "partitionValues": {}, "size": 1, "modificationTime": 0, "dataChange": True, **extra}}


def remove(path: str) -> dict:
    return {"remove": {"path": path, "dataChange": True}}


def commit(table: Path, version: int, *actions: dict) -> None:
    log = table / "_delta_log"
    log.mkdir(parents=True, exist_ok=True)
    (log / f"{version:020d}.json").write_text("\n".join(json.dumps(action) for action in actions) + "\n")


def test_current_files_schema_and_partition_columns(tmp_path: Path) -> None:
    table = tmp_path / "fct"
    commit(
        table,
        0,
        {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
        metadata(),
        add("activity_date=2026-11-01/a.parquet"),
    )
    commit(table, 1, add("activity_date=2026-11-02/b%20c.parquet"), add("activity_date=2026-11-02/d.parquet"))
    commit(table, 2, remove("activity_date=2026-11-01/a.parquet"), add("activity_date=2026-11-01/e.parquet"))
    current = read_table(table)
    assert current.version == 2
    # Paths are URIs: %20 is a space in the file's name.
    assert current.files == sorted(
        [
            table / "activity_date=2026-11-01/e.parquet",
            table / "activity_date=2026-11-02/b c.parquet",
            table / "activity_date=2026-11-02/d.parquet",
        ]
    )
    assert current.columns == [
        ("campaign_id", "varchar"),
        ("activity_hour", "timestamp"),
        ("sent", "bigint"),
        ("rate", "decimal(10,4)"),
        ("activity_date", "date"),
    ]
    assert current.partition_columns == ["activity_date"]


def test_a_checkpoint_then_the_commits_after_it(tmp_path: Path) -> None:
    """Commits before the checkpoint may be gone (log cleanup): the checkpoint's adds are the
    table at its version, and only later commits are replayed on top."""
    table = tmp_path / "fct"
    log = table / "_delta_log"
    log.mkdir(parents=True)
    con = duckdb.connect()
    schema = json.dumps(SCHEMA).replace("'", "''")
    con.execute(
        f"""
        copy (
            select {{'path': 'x.parquet', 'size': 1}} as add, null::struct(id varchar, "schemaString" varchar,
                "partitionColumns" varchar[]) as "metaData"
            union all select {{'path': 'y.parquet', 'size': 1}}, null
            union all select null, {{'id': 't', 'schemaString': '{schema}', 'partitionColumns': ['activity_date']}}
        ) to '{log / "00000000000000000010.checkpoint.parquet"}' (format parquet)
        """
    )
    con.close()
    (log / "_last_checkpoint").write_text(json.dumps({"version": 10, "size": 3}))
    commit(table, 11, remove("x.parquet"), add("z.parquet"))
    current = read_table(table)
    assert current.version == 11
    assert current.files == [table / "y.parquet", table / "z.parquet"]
    assert current.columns[0] == ("campaign_id", "varchar")
    # Without the checkpoint the log would start at 11: a gap, refused.
    (log / "_last_checkpoint").unlink()
    with pytest.raises(DeltaLogError, match="gap"):
        read_table(table)


@pytest.mark.parametrize(
    ("actions", "reason"),
    [
        ([add("a.parquet", deletionVector={"storageType": "u", "pathOrInlineDv": "x"})], "deletion vectors"),
        ([{"protocol": {"minReaderVersion": 3, "readerFeatures": ["deletionVectors"]}}], "deletion vectors are enabled"),
        ([metadata({"delta.columnMapping.mode": "name"})], "column mapping"),
    ],
)
def test_what_it_cannot_read_is_refused(tmp_path: Path, actions: list[dict], reason: str) -> None:
    table = tmp_path / "fct"
    commit(table, 0, metadata(), add("a.parquet"))
    commit(table, 1, *actions)
    with pytest.raises(DeltaLogError, match=reason):
        read_table(table)


def test_a_gap_a_missing_checkpoint_and_no_log_are_refused(tmp_path: Path) -> None:
    table = tmp_path / "fct"
    commit(table, 0, metadata(), add("a.parquet"))
    commit(table, 2, add("b.parquet"))
    with pytest.raises(DeltaLogError, match="gap after version -1"):
        read_table(table)
    (table / "_delta_log" / "_last_checkpoint").write_text(json.dumps({"version": 1}))
    with pytest.raises(DeltaLogError, match="checkpoint file is missing"):
        read_table(table)
    with pytest.raises(DeltaLogError, match="not a Delta table"):
        read_table(tmp_path / "plain")
