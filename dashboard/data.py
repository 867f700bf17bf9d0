"""Read-only access to the published serving file, for the dashboard pages.

Every query opens the serving file afresh: an in-memory DuckDB that ATTACHes it READ_ONLY
and is closed afterwards. A connection held open would keep reading the file it opened
and never see a newer publish; a plain `duckdb.connect(path)` inside one process reuses the
instance of a previous, still-running connection to the same path (Streamlit serves every
browser session from one process), which can be the old, replaced file. A fresh attach
always reads the newest publish, and never takes a lock a refresh needs.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from tally import settings

CHANNELS = {
    "email": "Email",
    "inapp": "In-app",
    "push": "Push",
    "sms": "SMS",
    "web": "Web",
    "direct_mail": "Direct mail",
}


def serving_file() -> Path:
    """$SERVING_PATH, else serving.duckdb beside the working warehouse ($WAREHOUSE_PATH)."""
    explicit = os.environ.get("SERVING_PATH")
    return Path(explicit) if explicit else settings.serving_path(settings.warehouse_path())


def is_published() -> bool:
    return serving_file().exists()


def query(sql: str, parameters: list[Any] | None = None) -> pd.DataFrame:
    """Runs one query on the newest publish; bound parameters only."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as serving (read_only)", [str(serving_file())])
        con.execute("use serving")
        return con.execute(sql, parameters or []).df()
    finally:
        con.close()


def one(sql: str, parameters: list[Any] | None = None) -> dict[str, Any] | None:
    frame = query(sql, parameters)
    return None if frame.empty else frame.iloc[0].to_dict()


def column_docs(relation: str) -> dict[str, str]:
    """The column descriptions dbt holds (persisted as comments): the metric tooltips."""
    frame = query(
        "select column_name, comment from duckdb_columns() where database_name = 'serving' "
        "and schema_name = 'marts' and table_name = ? and comment is not null",
        [relation],
    )
    return dict(zip(frame["column_name"], frame["comment"], strict=True))


def publish_status() -> dict[str, Any] | None:
    return one("select * from marts.publish_status")


def age_text(moment: datetime | None) -> str:
    if moment is None or pd.isna(moment):
        return "unknown"
    seconds = (datetime.now(UTC).replace(tzinfo=None) - moment).total_seconds()
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


# A period as the functions' arguments: (first day, day after the last, zone). The
# functions read a DATE as that day's midnight in report_timezone (docs/reports.md).
Bounds = tuple[date, date, str]


def period_arguments(first: date, last: date, zone: str) -> Bounds:
    """[first, last] as calendar days in `zone`: the arguments of every period_*_between."""
    return first, last + timedelta(days=1), zone
