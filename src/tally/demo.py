"""The demo's warehouse guard: is a warehouse the demo's to use (or to delete)?

`make demo` appends the bundled sample to its warehouse, and raw tables are append-only:
loading the sample into a warehouse of one's own events would mix them for good. `make
clean` deletes the demo warehouse. Both ask this module first: a warehouse is the demo's
only when every file ever loaded into it (raw._load_audit, raw._ajo_file_audit) comes from
the bundled samples (data/sample, data/sample_ajo). Not a `tally` subcommand: the Makefile
runs it as `python -m tally.demo --for demo|clean WAREHOUSE`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from tally import settings

AUDIT_TABLES = ("_load_audit", "_ajo_file_audit")
SAMPLE_DIRS = ("data/sample", "data/sample_ajo")


def loaded_files(warehouse: Path) -> list[str]:
    """Every source file recorded in the warehouse's load audits (none for a new file)."""
    if not warehouse.exists():
        return []
    con = settings.connect_read_only(warehouse)
    try:
        present = {row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
        files: list[str] = []
        for table in AUDIT_TABLES:
            if table in present:
                files += [row[0] for row in con.execute(f"select distinct source_file from raw.{table}").fetchall()]
        return files
    finally:
        con.close()


def foreign_files(warehouse: Path, sample_dirs: list[Path]) -> list[str]:
    """The files loaded into `warehouse` that are not under one of `sample_dirs`."""
    roots = [folder.resolve() for folder in sample_dirs]
    return sorted(
        name for name in loaded_files(warehouse) if not any(Path(name).resolve().is_relative_to(root) for root in roots)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tally.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--for", dest="purpose", choices=["demo", "clean"], required=True)
    parser.add_argument("warehouse", type=Path)
    args = parser.parse_args(argv)
    try:
        foreign = foreign_files(args.warehouse, [settings.REPO_ROOT / folder for folder in SAMPLE_DIRS])
    except duckdb.Error as error:
        print(f"cannot read {args.warehouse} to check it holds only the bundled sample ({error}); left alone", file=sys.stderr)
        return 2
    if not foreign:
        return 0
    example = f"{len(foreign)} file(s), e.g. {foreign[0]}"
    if args.purpose == "clean":
        print(f"kept {args.warehouse}: it holds events that are not the bundled sample ({example})", file=sys.stderr)
        return 1
    print(
        f"refused: {args.warehouse} holds events that are not the bundled sample ({example}); make demo would append "
        "the sample to them, and raw tables are append-only. Run the demo in a warehouse of its own, e.g. "
        "make demo WAREHOUSE_PATH=$PWD/warehouse/demo.duckdb (an exported WAREHOUSE_PATH is never the demo's).",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
