"""Landing staged exports in the warehouse: one transaction for all the files of an
invocation, a file already loaded into a table skipped, each file audited in
raw._ajo_file_audit and, unless --skip-records, its records kept."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import duckdb

from tally import settings
from tally.common import first_line, quote_literal
from tally.contract import RAW_SCHEMA
from tally.load import RefusedFile, flat
from tally.load.ajo.mapping import experiments_sql, mapping_sql, record_sql, unnamed_variants_sql
from tally.load.ajo.schema import CJM, DATASETS, record_type
from tally.load.ajo.stage import StagedFile, stage_file

EXPERIMENT_TREATMENTS = f"{RAW_SCHEMA}.ajo_experiment_treatments"


def ensure_ajo_tables(con: duckdb.DuckDBPyConnection) -> None:
    for dataset in DATASETS:
        kept = record_type(dataset.schema)
        con.execute(
            f"create table if not exists {RAW_SCHEMA}.{dataset.records_table} (_load_id varchar, "
            f"_source_file varchar, _file_sha256 varchar, _loaded_at timestamp, event_id varchar, "
            f"record {kept})"
        )
        # A table kept before the mapping read more field paths gains them, null in the
        # records kept before (a struct widened by name keeps every existing field).
        current = con.execute(
            "select data_type from duckdb_columns() where database_name = 'warehouse' and schema_name = ? "
            "and table_name = ? and column_name = 'record'",
            [RAW_SCHEMA, dataset.records_table],
        ).fetchone()[0]
        if current.replace('"', "").lower() != kept.replace('"', "").lower():
            con.execute(f"alter table {RAW_SCHEMA}.{dataset.records_table} alter column record type {kept}")
    # The Entity dataset's experiments per content message and variant: the Message Feedback
    # mapping reads them to name a send's experiment and treatment (docs/decisions.md).
    con.execute(
        f"create table if not exists {EXPERIMENT_TREATMENTS} (message_id varchar, variant_id varchar, "
        "experiment_id varchar, experiment_name varchar, treatment_id varchar, treatment_name varchar, "
        "_load_id varchar, _source_file varchar, _loaded_at timestamp)"
    )
    con.execute(
        f"create table if not exists {RAW_SCHEMA}._ajo_file_audit (load_id varchar, source_file varchar, "
        "file_sha256 varchar, dataset varchar, file_format varchar, records bigint, test_sends_withheld bigint, "
        "ignored_fields varchar, loaded_at timestamp, records_kept boolean)"
    )


def attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    version = settings.WAREHOUSE_CONFIG["storage_compatibility_version"]
    con.execute(f"attach {quote_literal(str(warehouse))} as warehouse (storage_version {quote_literal(version)})")
    con.execute("use warehouse")


def keep_records(con: duckdb.DuckDBPyConnection, item: StagedFile, load_id: str, loaded_at: str, keep: bool) -> int:
    """Keeps the file's records (unless `keep` is false) and writes its audit row; returns
    the number of test sends withheld from the contract tables."""
    withheld = 0
    if item.dataset.key != "entity":
        test = item.resolver.text(f"{CJM}.messageProfile.isTestExecution")
        withheld = con.execute(f"select count(*) from {item.source} where lower(trim({test})) = 'true'").fetchone()[0]
    if keep:
        con.execute(
            f"insert into {RAW_SCHEMA}.{item.dataset.records_table} "
            f"select ?, ?, ?, cast(? as timestamp), {item.resolver.text('_id')}, {record_sql(item, item.dataset.schema)} "
            f"from {item.source}",
            [load_id, str(item.path), item.sha256, loaded_at],
        )
    con.execute(
        f"insert into {RAW_SCHEMA}._ajo_file_audit values (?, ?, ?, ?, ?, ?, ?, ?, cast(? as timestamp), ?)",
        [
            load_id,
            str(item.path),
            item.sha256,
            item.dataset.key,
            item.file_format,
            item.records,
            withheld,
            ", ".join(item.ignored_fields),
            loaded_at,
            keep,
        ],
    )
    return int(withheld)


def land_file(
    con: duckdb.DuckDBPyConnection, item: StagedFile, load_id: str, loaded_at: str, quiet: bool, keep: bool = True
) -> int:
    """Appends one file's rows to each of its tables and keeps its records once."""
    total = 0
    for table in item.tables:
        seen = con.execute(
            f"select count(*) from {flat.AUDIT_TABLE} where table_name = ? and file_sha256 = ?", [table, item.sha256]
        ).fetchone()[0]
        if seen:
            print(f"{item.path}: already loaded into {table} (same content), skipped")
            continue
        started = time.perf_counter()
        rows = flat.append_rows(con, table, mapping_sql(item, table), load_id, str(item.path), loaded_at)
        if table == "message_feedback_events":
            unnamed = con.execute(unnamed_variants_sql(item)).fetchone()[0]
            if unnamed:
                print(
                    f"{item.path}: {unnamed:,} records name a content variant but no Entity export loaded so far "
                    "names its experiment: they land with no experiment. Load the Entity export first (or in the "
                    "same call) to report them as experiment treatments."
                )
        if item.dataset.key == "entity":
            con.execute(
                f"insert into {EXPERIMENT_TREATMENTS} select *, ?, ?, cast(? as timestamp) from ({experiments_sql(item)})",
                [load_id, str(item.path), loaded_at],
            )
        con.execute(
            f"insert into {flat.AUDIT_TABLE} values (?, ?, ?, ?, ?, cast(? as timestamp))",
            [load_id, table, str(item.path), item.sha256, rows, loaded_at],
        )
        total += rows
        if not quiet:
            print(f"{item.path} -> {table}: {rows:,} rows in {time.perf_counter() - started:.2f} s")
    audited, kept = con.execute(
        f"select count(*), count(*) filter (records_kept) from {RAW_SCHEMA}._ajo_file_audit where file_sha256 = ?", [item.sha256]
    ).fetchone()
    if (keep and not kept) or not audited:
        started = time.perf_counter()
        withheld = keep_records(con, item, load_id, loaded_at, keep)
        if not quiet and keep:
            print(
                f"{item.path} -> raw.{item.dataset.records_table}: {item.records:,} records kept in "
                f"{time.perf_counter() - started:.2f} s"
            )
        if withheld and not audited:
            print(
                f"{item.path}: {withheld:,} test sends withheld from the contract tables"
                + (f" (kept in raw.{item.dataset.records_table})" if keep else "")
            )
    return total


def load(warehouse: Path, table: str, files: list[Path], quiet: bool, keep_records_too: bool = True) -> int:
    """Checks every file (parsing JSON whole) in memory, then lands them all in one
    transaction; `keep_records_too=False` (--skip-records) does not keep the records."""
    con = duckdb.connect(config={"preserve_insertion_order": False})
    try:
        con.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        staged = [stage_file(con, table, path.resolve(), index) for index, path in enumerate(files)]
        # Entity exports first: the feedback of the same invocation reads their experiments.
        staged.sort(key=lambda item: item.dataset.key != "entity")
        for item in staged:
            extra = f"; fields not read: {', '.join(item.ignored_fields[:6])}" if item.ignored_fields else ""
            if not quiet:
                print(f"{item.path}: {item.dataset.title}, {item.file_format}, {item.records:,} records{extra}")
        if not quiet:
            print(f"checked {len(staged)} file(s) in {time.perf_counter() - started:.2f} s")
        attach_warehouse(con, warehouse)
        flat.ensure_tables(con)
        ensure_ajo_tables(con)
        load_id = uuid.uuid4().hex
        loaded_at = flat.load_stamp(con)
        total = 0
        con.execute("begin transaction")
        try:
            for item in staged:
                try:
                    total += land_file(con, item, load_id, loaded_at, quiet, keep_records_too)
                except duckdb.Error as error:
                    raise RefusedFile(
                        f"{item.path}: cannot be read as an {item.dataset.title} export: {first_line(error)}", item.path
                    ) from error
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        print(f"loaded {total:,} rows from {len(staged)} AJO export file(s) (load {load_id})")
        return 0
    finally:
        con.close()
