"""Write a report out of the warehouse: the period report (every section, for a range and a
time zone) or the live report (the last 24 hours), for every campaign or one, as CSV or
Parquet files (one per section) or as one self-contained HTML file to mail.

    tally export period --period 2026-11-02 2026-11-05 --timezone Europe/Paris --campaign cmp_00000 --out report/
    tally export live --campaign cmp_00000 --format html --out live.html

Reads the published serving file (what BI tools read; --source for another file), read-only
and briefly. The period sections are the period_*_between functions called with the range
and the zone, so a 'YYYY-MM-DD' bound is that day's midnight in the zone and a
'YYYY-MM-DDTHH:MM:SS' bound a UTC instant (docs/reports.md, "Arguments").
"""

from __future__ import annotations

import argparse
import html
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tally import settings

FORMATS = ("csv", "parquet", "html")
RATE_SUFFIXES = ("_rate", "reactivity", "share_of_clicks", "share_of_clickers", "share_of_kind")


@dataclass(frozen=True)
class Section:
    name: str  # the file's name, and the relation or function it reads
    title: str
    order: str  # order by, so files compare equal run to run
    by_campaign: bool = True  # has campaign_id: filtered by --campaign


PERIOD_SECTIONS = [
    Section("period_channel_report", "Campaign tabs (per campaign and channel)", "campaign_id, channel"),
    Section("period_delivery_report", "Deliveries, event time", "campaign_id, execution_started_at, channel"),
    Section("period_delivery_cohort", "Deliveries, send cohort", "campaign_id, execution_started_at, channel"),
    Section(
        "period_non_deliverables", "Non-deliverables", "campaign_id, execution_id, channel, reason_kind, events desc, reason"
    ),
    Section("period_domain_statistics", "Per domain", "campaign_id, execution_id, sent desc, recipient_domain"),
    Section("period_top_links", "Top links per delivery", "campaign_id, execution_id, channel, link_rank"),
    Section("period_campaign_top_links", "Top links per campaign tab", "campaign_id, channel, link_rank"),
    Section("period_engagement_daily", "Opens and clicks per day", "campaign_id, execution_id, channel, activity_date"),
    Section("period_suppression_exclusions", "Messages not sent: suppressed addresses", "campaign_id, execution_id, channel"),
    Section("period_suppression_daily", "Suppressions per day", "day, channel, recipient_domain", by_campaign=False),
]
LIVE_SECTIONS = [
    Section("live_campaign_statistics", "Campaign statistics", "campaign_id"),
    Section("live_channel_statistics", "Campaign tabs (per channel)", "campaign_id, channel"),
    Section("live_delivery_statistics", "Deliveries", "campaign_id, execution_started_at, channel"),
    Section("live_channel_timeseries", "Per hour, per campaign tab", "campaign_id, channel, hour_start"),
    Section("live_delivery_timeseries", "Per hour, per delivery", "campaign_id, execution_id, channel, hour_start"),
    Section(
        "live_channel_reasons", "Error, exclusion and bounce reasons", "campaign_id, channel, reason_kind, events desc, reason"
    ),
    Section("live_recipient_domains", "Recipient domains", "campaign_id, channel, recipient_domain"),
    Section("live_platform_breakdown", "Platforms", "campaign_id, channel, platform"),
    Section("live_interactions", "Interactions", "campaign_id, channel, interaction"),
    Section("live_offers", "Offers", "campaign_id, offer_id, hour_start"),
    Section("live_alerts", "Open alerts", "alert_id"),
]
# The live series' hours in the chosen zone, beside the UTC ones (the marts' hour_start_local
# is in the build's var report_timezone).
LOCAL_HOURS = "timezone(?, timezone('UTC', hour_start))"


def bound(text: str) -> str:
    """A period bound as the functions read it: 'YYYY-MM-DD' (a day in the zone) or
    'YYYY-MM-DD HH:MM[:SS]' / 'YYYY-MM-DDTHH:MM[:SS]' (UTC)."""
    text = text.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed.strftime("%Y-%m-%d" if pattern == "%Y-%m-%d" else "%Y-%m-%d %H:%M:%S")
    raise argparse.ArgumentTypeError(f"expected 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM[:SS]', got {text!r}")


def section_query(section: Section, kind: str, campaign: str | None, start: str, end: str, zone: str) -> tuple[str, list]:
    """The SQL and parameters of one section, filtered to the campaign when it has one."""
    if kind == "period":
        relation, parameters = f"marts.{section.name}_between(?, ?, report_timezone := ?)", [start, end, zone]
        columns = "*"
    else:
        relation, parameters = f"marts.{section.name}", []
        columns = (
            f"*, {LOCAL_HOURS} as hour_start_in_zone" if "timeseries" in section.name or section.name == "live_offers" else "*"
        )
        if columns != "*":
            parameters.append(zone)
    where = ""
    if campaign is not None and section.by_campaign:
        where = " where campaign_id = ?"
        parameters.append(campaign)
    return f"select {columns} from {relation}{where} order by {section.order}", parameters


def write_files(con: duckdb.DuckDBPyConnection, queries: list[tuple[Section, str, list]], out: Path, fmt: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for section, sql, parameters in queries:
        path = out / f"{section.name}.{fmt}"
        relation = con.sql(sql, params=parameters)
        if fmt == "csv":
            relation.write_csv(str(path))
        else:
            relation.write_parquet(str(path))
        written.append(path)
    return written


def cell(column: str, value: object) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float) and column.endswith(RATE_SUFFIXES):
        return f"{value:.1%}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return html.escape(str(value))


STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
p.meta { color: #57606a; }
table { border-collapse: collapse; font-size: 0.85em; margin-top: 0.5em; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
"""


def write_html(
    con: duckdb.DuckDBPyConnection, queries: list[tuple[Section, str, list]], out: Path, title: str, meta: str
) -> Path:
    """One file, no script and no external resource: it opens from a mail attachment."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(meta)}</p>',
    ]
    for section, sql, parameters in queries:
        result = con.execute(sql, parameters)
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
        parts.append(f'<h2 id="{section.name}">{html.escape(section.title)} ({len(rows):,} rows)</h2>')
        if not rows:
            parts.append("<p>No rows.</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr></thead><tbody>")
        for row in rows:
            parts.append(
                "<tr>"
                + "".join(
                    f'<td class="n">{cell(c, v)}</td>'
                    if isinstance(v, int | float) and not isinstance(v, bool)
                    else f"<td>{cell(c, v)}</td>"
                    for c, v in zip(columns, row, strict=True)
                )
                + "</tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def export(source: Path, kind: str, out: Path, fmt: str, campaign: str | None, start: str, end: str, zone: str) -> int:
    con = settings.connect_read_only(source)
    try:
        sections = PERIOD_SECTIONS if kind == "period" else LIVE_SECTIONS
        present = {
            row[0]
            for row in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()
        }
        if kind == "period" and "period_table_functions" in present:
            functions = con.execute("select function_name from marts.period_table_functions").fetchall()
            present = {row[0].removesuffix("_between") for row in functions}
        missing = [s.name for s in sections if s.name not in present]
        if missing:
            print(
                f"{source} has no {', '.join(missing)}: build and publish first (dbt build, then tally publish)", file=sys.stderr
            )
            return 2
        if (
            campaign is not None
            and not con.execute("select 1 from marts.dim_campaigns where campaign_id = ?", [campaign]).fetchall()
        ):
            print(f"no campaign {campaign!r} in {source}", file=sys.stderr)
            return 2
        con.execute("select timezone(?, timestamp '2000-01-01 00:00:00')", [zone]).fetchall()  # an unknown zone, named
        queries = [(s, *section_query(s, kind, campaign, start, end, zone)) for s in sections]
        if fmt == "html":
            scope = f"campaign {campaign}" if campaign else "every campaign"
            if kind == "period":
                title = f"Period report, {start} to {end} ({zone})"
            else:
                window = con.execute("select min(window_start), min(window_end) from marts.live_campaign_statistics").fetchall()[
                    0
                ]
                title = f"Live report, the 24 hours to {window[1]:%Y-%m-%d %H:%M} UTC" if window[1] else "Live report"
            meta = f"{scope} · from {source.name} · written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · hours and days in {zone}"
            written = [write_html(con, queries, out, title, meta)]
        else:
            written = write_files(con, queries, out, fmt)
    except duckdb.Error as error:  # a bad range or zone: the functions' own message
        print(f"tally export: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        con.close()
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", choices=("period", "live"), help="the period report (every section) or the live report")
    parser.add_argument(
        "--period",
        nargs=2,
        type=bound,
        metavar=("START", "END"),
        help="the period report's [START, END): 'YYYY-MM-DD' days in --timezone, or UTC 'YYYY-MM-DDTHH:MM:SS' (required for period)",
    )
    parser.add_argument("--timezone", default="UTC", help="IANA zone of the days and hours (default UTC)")
    parser.add_argument("--campaign", help="one campaign's rows (default: every campaign)")
    parser.add_argument(
        "--format", choices=FORMATS, default="csv", help="csv or parquet (a file per section), or html (one file)"
    )
    parser.add_argument("--out", type=Path, required=True, help="a folder (csv, parquet) or a file (html)")
    parser.add_argument(
        "--source",
        type=Path,
        help="the DuckDB file to read (default: the serving file beside $WAREHOUSE_PATH, else warehouse/serving.duckdb)",
    )
    args = parser.parse_args(argv)
    if args.report == "period" and args.period is None:
        parser.error("period needs --period START END")
    if args.report == "live" and args.period is not None:
        parser.error("--period is for the period report; the live report is the last 24 hours")
    source = args.source or settings.serving_path(settings.warehouse_path())
    if not source.exists():
        print(f"no published file at {source}: run `make demo`, or `dbt build` then `tally publish`", file=sys.stderr)
        return 2
    start, end = args.period or ("", "")
    return export(source, args.report, args.out, args.format, args.campaign, start, end, args.timezone)
