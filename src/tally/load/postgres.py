"""The PostgreSQL destination (`tally load --postgres`): the raw tables of a PostgreSQL
database (env DBT_PG_HOST, DBT_PG_PORT, DBT_PG_USER, DBT_PG_PASSWORD, DBT_PG_DBNAME), one
transaction per invocation, the audit in raw._load_audit. PostgreSQL text cannot hold a NUL
byte: NUL is stored as U+0001, still a control character, so staging rejects the row for
the same reason as on DuckDB.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from tally import contract
from tally.common import quote_ident, quote_literal
from tally.contract import CONTRACT, RAW_SCHEMA
from tally.load.flat import AUDIT_TABLE, LOADED_AT_FORMAT, PreparedFile, next_loaded_at, rows_select


def postgres_connect():  # type: ignore[no-untyped-def]
    """A connection to the PostgreSQL target of profiles.yml (the same DBT_PG_* variables)."""
    import psycopg2  # only needed here: installed with dbt-postgres (requirements-engines.txt)

    return psycopg2.connect(
        host=os.environ.get("DBT_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("DBT_PG_PORT", "5432")),
        user=os.environ.get("DBT_PG_USER", "postgres"),
        password=os.environ.get("DBT_PG_PASSWORD", ""),
        dbname=os.environ.get("DBT_PG_DBNAME", "warehouse"),
    )


def load_postgres(table: str, prepared: list[PreparedFile], quiet: bool) -> int:
    """Appends the new files' rows to the PostgreSQL raw table in one transaction."""
    pg = postgres_connect()
    con = duckdb.connect()
    try:
        with pg, pg.cursor() as cursor:
            cursor.execute(f"create schema if not exists {RAW_SCHEMA}")
            for name, columns in CONTRACT.items():
                column_sql = ", ".join(f"{quote_ident(c)} text" for c, _ in columns)
                cursor.execute(
                    f"create table if not exists {RAW_SCHEMA}.{name} ({column_sql}, _load_id text, _source_file text, _loaded_at timestamp)"
                )
                # A table created before an optional column joined the contract gains it.
                for column, _ in columns:
                    cursor.execute(f"alter table {RAW_SCHEMA}.{name} add column if not exists {quote_ident(column)} text")
            cursor.execute(
                f"create table if not exists {AUDIT_TABLE} (load_id text, table_name text, source_file text,"
                " file_sha256 text, row_count bigint, loaded_at timestamp)"
            )
        with pg, pg.cursor() as cursor:
            # One loader at a time: the "already loaded" check and the insert are one step.
            cursor.execute(f"lock table {AUDIT_TABLE} in exclusive mode")
            cursor.execute(f"select max(loaded_at) from {AUDIT_TABLE}")
            loaded_at = next_loaded_at(cursor.fetchone()[0])
            loaded_at_text = loaded_at.strftime(LOADED_AT_FORMAT)
            load_id = uuid.uuid4().hex
            columns = contract.columns(table) + ["_load_id", "_source_file", "_loaded_at"]
            total = 0
            for index, item in enumerate(prepared, start=1):
                cursor.execute(
                    f"select count(*) from {AUDIT_TABLE} where table_name = %s and file_sha256 = %s", [table, item.sha256]
                )
                if cursor.fetchone()[0]:
                    print(f"[{index}/{len(prepared)}] {item.path}: already loaded into {table} (same content), skipped")
                    continue
                started = time.perf_counter()
                with tempfile.TemporaryDirectory() as scratch:
                    csv_path = Path(scratch) / "rows.csv"
                    select = rows_select(table, [item], load_id, loaded_at_text, nul_replacement="chr(1)")
                    con.execute(f"copy ({select}) to {quote_literal(str(csv_path))} (format csv, header false, force_quote *)")
                    with csv_path.open("r", encoding="utf-8") as handle:
                        cursor.copy_expert(
                            f"copy {RAW_SCHEMA}.{table} ({', '.join(quote_ident(c) for c in columns)}) from stdin with (format csv)",
                            handle,
                        )
                    rows = cursor.rowcount
                cursor.execute(
                    f"insert into {AUDIT_TABLE} values (%s, %s, %s, %s, %s, %s)",
                    [load_id, table, str(item.path), item.sha256, rows, loaded_at_text],
                )
                total += rows
                if not quiet:
                    print(f"[{index}/{len(prepared)}] {item.path}: {rows:,} rows in {time.perf_counter() - started:.2f} s")
        print(f"loaded {total:,} rows into PostgreSQL {RAW_SCHEMA}.{table} (load {load_id})")
        return 0
    finally:
        con.close()
        pg.close()
