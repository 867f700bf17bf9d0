"""Append raw event files (CSV with header, Parquet, NDJSON) to a raw table of the warehouse.

`--layout ajo` reads the platform's own dataset exports instead (tally.load.ajo).

Why it is shaped like this:
* Every contract column lands as text, exactly as received: a bad *value* is staging's
  business (it rejects the row with a reason), never a reason to lose a load.
* A file whose *columns* do not fit the contract is refused before anything is written,
  with the file, the column and what was expected.
* One invocation is one transaction: all its files land, or none does (a crash or a
  SIGKILL mid-load leaves the table as it was). A file already loaded into the same table
  (same sha256 of its bytes) is skipped, so loading twice never doubles anything.
* DuckDB's own readers do the work: no Python loop over rows.
* Nothing here ever updates or deletes raw rows; dbt never writes to the `raw` schema.

Other destinations, same checks and the same promises (`--lake DIR`, `--postgres`):
* `--lake DIR`: the raw tables as Parquet files of a lake folder, `DIR/raw/<table>/*.parquet`,
  which Spark (and any engine) reads as the dbt sources. One invocation writes one file,
  under a hidden name, then renames it into place: all its input files land or none. The
  file carries its own audit (load id, load time, the input files' SHA-256) in its Parquet
  key-value metadata, so "already loaded" is read from the lake itself and the data and
  its audit can never disagree. DuckDB is only the in-process file reader and writer here.
* `--postgres`: the raw tables of a PostgreSQL database (env DBT_PG_HOST, DBT_PG_PORT,
  DBT_PG_USER, DBT_PG_PASSWORD, DBT_PG_DBNAME), one transaction per invocation, the audit
  in raw._load_audit. PostgreSQL text cannot hold a NUL byte: NUL is stored as U+0001, still
  a control character, so staging rejects the row for the same reason as on DuckDB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from tally import settings
from tally.contract import CONTRACT
from tally.load import RefusedFile, ajo
from tally.load.flat import check_files, load
from tally.load.lake import load_lake
from tally.load.postgres import load_postgres


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--table",
        required=True,
        choices=[*sorted(CONTRACT), "auto"],
        help="raw table to append to; with --layout ajo, `auto` takes every table each export feeds",
    )
    parser.add_argument("files", nargs="+", type=Path, help="CSV (with header), Parquet or NDJSON files")
    parser.add_argument(
        "--layout",
        choices=["flat", "ajo"],
        default="flat",
        help="flat: the raw-event contract's columns (default); ajo: the platform's own dataset exports "
        "(Message Feedback, Email/Push Tracking, Entity; NDJSON, gzipped or not, or nested Parquet), see docs on the AJO layout",
    )
    parser.add_argument("--format", choices=["csv", "parquet", "ndjson"], help="override detection by file extension")
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=settings.warehouse_path(),
        help="DuckDB file (default: $WAREHOUSE_PATH, else warehouse/warehouse.duckdb in the repo)",
    )
    parser.add_argument("--quiet", action="store_true", help="only print the summary line")
    parser.add_argument(
        "--skip-records",
        action="store_true",
        help="--layout ajo: do not keep the exports' records in raw.ajo_*_records (faster; the file is still "
        "audited in raw._ajo_file_audit, and a later load of it can keep them)",
    )
    destination = parser.add_mutually_exclusive_group()
    destination.add_argument(
        "--lake",
        type=Path,
        help="write Parquet files of the lake folder DIR/raw/<table>/ instead (read by Spark as the raw sources)",
    )
    destination.add_argument("--postgres", action="store_true", help="append to the PostgreSQL raw tables instead (env DBT_PG_*)")
    args = parser.parse_args(argv)
    if args.table == "auto" and args.layout != "ajo":
        parser.error("--table auto needs --layout ajo (a flat file does not say which table it is)")
    if args.skip_records and args.layout != "ajo":
        parser.error("--skip-records applies to --layout ajo")
    if args.layout == "ajo" and args.format:
        parser.error("--format applies to the flat layout; an AJO export's format is read from its name")
    if args.layout == "ajo" and (args.lake is not None or args.postgres):
        parser.error("--lake and --postgres take the flat layout: load AJO exports into DuckDB, or flatten them first")
    try:
        duckdb.execute("set enable_progress_bar = true")
        if args.layout == "ajo":
            return ajo.load(args.warehouse, args.table, args.files, args.quiet, not args.skip_records)
        if args.lake is not None:
            return load_lake(args.lake.resolve(), args.table, check_files(args.table, args.files, args.format), args.quiet)
        if args.postgres:
            prepared = check_files(args.table, args.files, args.format)
            try:
                return load_postgres(args.table, prepared, args.quiet)
            except duckdb.Error:
                raise
            except Exception as error:  # psycopg2's errors: the transaction was rolled back
                print(f"load failed, nothing loaded: {type(error).__name__}: {error}", file=sys.stderr)
                return 1
        return load(args.warehouse, args.table, args.files, args.format, args.quiet)
    except RefusedFile as refused:
        print(f"refused, nothing loaded: {refused}", file=sys.stderr)
        return 2
    except duckdb.Error as error:
        print(f"load failed, nothing loaded: {error}", file=sys.stderr)
        return 1
