"""Print the headline report from the warehouse marts as plain-text tables.

Opens the warehouse read-only and briefly (the way a BI tool should), so it never holds a
lock a refresh needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from tally import settings

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
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.rjust(w) if v[:1].isdigit() or v == "-" else v.ljust(w) for v, w in zip(row, widths, strict=True)))


PERIOD_TAB_COLUMNS = [
    "campaign_id",
    "campaign_name",
    "channel",
    "executions",
    "targeted",
    "sent",
    "delivered",
    "delivered_rate",
    "bounces",
    "unique_opens",
    "unique_clicks",
    "reactivity",
    "new_quarantines",
]


def period_bound(text: str) -> datetime:
    """A period bound: 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM[:SS]', UTC."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SS' (UTC), got {text!r}") from None


def period_report(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, limit: int) -> None:
    """The period report for [start, end), answered at query time by the table functions."""
    columns = ", ".join(PERIOD_TAB_COLUMNS)
    result = con.execute(
        f"select {columns} from marts.period_channel_report_between(?, ?) order by campaign_id, channel limit {int(limit)}",
        [start, end],
    )
    print_table(
        f"Period report {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: per campaign tab",
        PERIOD_TAB_COLUMNS,
        result.fetchall(),
    )
    columns = ", ".join(DELIVERY_COLUMNS)
    result = con.execute(
        f"select {columns} from marts.period_delivery_report_between(?, ?) "
        f"order by campaign_id, execution_started_at, channel limit {int(limit)}",
        [start, end],
    )
    print_table(
        f"Period report {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: per delivery", DELIVERY_COLUMNS, result.fetchall()
    )


def unbuilt(warehouse: Path, tables: set[str]) -> bool:
    """A warehouse without the marts (loaded, never built): say what to run, not a traceback."""
    if "marts.fct_deliveries" in tables:
        return False
    print(
        f"no marts in {warehouse} yet: build them first with `dbt build` (or make build), then run the report again",
        file=sys.stderr,
    )
    return True


def report(warehouse: Path, limit: int, period: tuple[datetime, datetime] | None = None) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {
            row[0] for row in con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
        }
        if unbuilt(warehouse, tables):
            return 2
        if "marts.live_campaign_statistics" in tables:
            columns = ", ".join(CAMPAIGN_COLUMNS)
            result = con.execute(f"select {columns} from marts.live_campaign_statistics order by campaign_id limit {int(limit)}")
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
        if period is not None:
            period_report(con, period[0], period[1], limit)
        # A warehouse kept only by live refreshes has no reconciliation yet: the full build
        # (make build) creates it, so say so rather than fail.
        if "audit.audit_row_reconciliation" not in tables:
            print("\nWhere every raw row went: not built yet (run make build, or dbt build)")
            return 0
        reconciliation = con.execute(
            "select table_name, raw_rows, staged_rows, duplicate_rows, rejected_rows "
            "from audit.audit_row_reconciliation order by table_name"
        )
        print_table(
            "Where every raw row went",
            [d[0] for d in reconciliation.description],
            reconciliation.fetchall(),
        )
        return 0
    finally:
        con.close()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=settings.warehouse_path(),
        help="DuckDB file (default: $WAREHOUSE_PATH, else warehouse/warehouse.duckdb)",
    )
    parser.add_argument("--limit", type=int, default=40, help="rows per table at most")
    parser.add_argument(
        "--period",
        nargs=2,
        type=period_bound,
        metavar=("START", "END"),
        help="also print the period report for [START, END), UTC dates or times (e.g. 2026-11-02 2026-11-05)",
    )
    args = parser.parse_args(argv)
    if args.period and args.period[0] >= args.period[1]:
        parser.error(f"--period: START ({args.period[0]}) must be before END ({args.period[1]})")
    if not args.warehouse.exists():
        print(f"no warehouse at {args.warehouse}: run `make demo` first", file=sys.stderr)
        return 2
    return report(args.warehouse, args.limit, tuple(args.period) if args.period else None)
