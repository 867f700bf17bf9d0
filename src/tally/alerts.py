"""Print the open alerts of the newest publish (marts.live_alerts) for a scheduler.

Exit status: 0 when no alert is open (at --fail-on's severity or above), 1 while one is,
2 when there is nothing to read (no publish yet, or a publish without alerts). Reads the
serving file read-only and briefly, so it never holds a lock a refresh needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from tally import settings
from tally.report import print_table

COLUMNS = [
    "severity",
    "alert_scope",
    "campaign_id",
    "execution_id",
    "channel",
    "recipient_domain",
    "metric",
    "alert_rule",
    "numerator",
    "denominator",
    "rate",
    "threshold",
    "baseline_rate",
]
SEVERITIES = {"warning": 1, "critical": 2}
# Shared with the dashboard's banner (dashboard/banner.py), on a connection whose current
# catalog is the serving file.
HAS_ALERTS_SQL = (
    "select count(*) as n from duckdb_tables() where database_name = current_database() and schema_name = 'marts' "
    "and table_name = 'live_alerts'"
)
OPEN_ALERTS_SQL = (
    f"select {', '.join(COLUMNS)} from marts.live_alerts "
    "order by case severity when 'critical' then 0 else 1 end, metric, alert_scope, rate desc"
)


def default_serving() -> Path:
    """$SERVING_PATH, else serving.duckdb beside the working warehouse ($WAREHOUSE_PATH)."""
    explicit = os.environ.get("SERVING_PATH")
    return Path(explicit) if explicit else settings.serving_path(settings.warehouse_path())


def open_alerts(serving: Path) -> tuple[list[tuple], tuple] | None:
    """The open alerts, most severe first, and the window they judge; None without them."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as serving (read_only)", [str(serving)])
        con.execute("use serving")
        found = con.execute(HAS_ALERTS_SQL).fetchone()
        if not found or found[0] == 0:
            return None
        rows = con.execute(OPEN_ALERTS_SQL).fetchall()
        window = con.execute("select window_start, window_end from marts.live_report_status").fetchone()
        return rows, window or (None, None)
    finally:
        con.close()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--serving",
        type=Path,
        default=default_serving(),
        help="the published file (default: $SERVING_PATH, else serving.duckdb beside $WAREHOUSE_PATH)",
    )
    parser.add_argument(
        "--fail-on",
        choices=sorted(SEVERITIES, key=SEVERITIES.get),
        default="warning",
        help="exit 1 while an alert of this severity or above is open (default: warning, i.e. any)",
    )
    args = parser.parse_args(argv)
    if not args.serving.exists():
        print(f"nothing published at {args.serving}: run `tally publish` (or make build) first", file=sys.stderr)
        return 2
    found = open_alerts(args.serving)
    if found is None:
        print(f"{args.serving} has no marts.live_alerts: publish a build that has it (dbt build, tally publish)", file=sys.stderr)
        return 2
    rows, (start, end) = found
    print(f"Live window ({start} UTC, {end} UTC]")
    if not rows:
        print("No open alert.")
        return 0
    print_table("Open alerts (marts.live_alerts)", COLUMNS, rows)
    failing = [row for row in rows if SEVERITIES[row[0]] >= SEVERITIES[args.fail_on]]
    return 1 if failing else 0
