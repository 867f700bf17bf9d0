#!/usr/bin/env python3
"""Print the headline report from the warehouse marts as plain-text tables.

Opens the warehouse read-only and briefly (the way a BI tool should), so it never holds a
lock a refresh needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "warehouse.duckdb"

CAMPAIGN_COLUMNS = [
    "campaign_id",
    "campaign_name",
    "channels",
    "deliveries",
    "audience",
    "profiles_entered",
    "targeted",
    "excluded",
    "errors",
    "sent",
    "delivered",
    "bounces",
    "opens",
    "clicks",
    "engagements",
]

DELIVERY_COLUMNS = [
    "campaign_id",
    "execution_id",
    "channel",
    "execution_started_at",
    "targeted",
    "excluded",
    "errors",
    "sent",
    "delivered",
    "bounces",
    "retries",
    "unique_opens",
    "unique_clicks",
    "delivered_rate",
    "open_rate",
]


def format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[format_value(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print(f"\n{title} ({len(rows)} rows)")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.rjust(w) if v[:1].isdigit() or v == "-" else v.ljust(w) for v, w in zip(row, widths)))


def report(warehouse: Path, limit: int) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {
            row[0]
            for row in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        if "marts.live_campaign_statistics" in tables:
            columns = ", ".join(CAMPAIGN_COLUMNS)
            result = con.execute(f"select {columns} from marts.live_campaign_statistics order by campaign_id")
            print_table("Live report: campaign statistics (last 24 h)", CAMPAIGN_COLUMNS, result.fetchall())
        if "marts.live_delivery_statistics" in tables:
            columns = ", ".join(DELIVERY_COLUMNS)
            result = con.execute(
                f"select {columns} from marts.live_delivery_statistics "
                f"order by campaign_id, execution_started_at, channel limit {int(limit)}"
            )
            print_table("Live report: per-delivery statistics (last 24 h)", DELIVERY_COLUMNS, result.fetchall())
        columns = ", ".join(DELIVERY_COLUMNS)
        result = con.execute(
            f"select {columns} from marts.fct_deliveries order by campaign_id, execution_started_at, channel limit {int(limit)}"
        )
        print_table("All history: per-delivery statistics (fct_deliveries)", DELIVERY_COLUMNS, result.fetchall())
        reconciliation = con.execute(
            "select table_name, raw_rows, staged_rows, duplicate_rows, rejected_rows "
            "from staging.stg_raw__row_reconciliation order by table_name"
        )
        print_table(
            "Where every raw row went",
            [d[0] for d in reconciliation.description],
            reconciliation.fetchall(),
        )
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("WAREHOUSE_PATH", DEFAULT_WAREHOUSE)),
        help="DuckDB file (default: $WAREHOUSE_PATH, else warehouse/warehouse.duckdb)",
    )
    parser.add_argument("--limit", type=int, default=40, help="rows per table at most")
    args = parser.parse_args(argv)
    if not args.warehouse.exists():
        print(f"no warehouse at {args.warehouse}: run `make demo` first", file=sys.stderr)
        return 2
    report(args.warehouse, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
