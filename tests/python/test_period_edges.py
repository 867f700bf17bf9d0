"""The period functions' rare path, pinned with crafted events: a message with targeting
events (sent, error, excluded) in two hours under two profiles. Such a message is rolled up
at query time (fct_message_hours.message_targeted_hours > 1) and its profile in a range is
the least of its targeting rows there, as the full rollup has it; the second profile is one
another message of the same delivery is targeted with in that later hour, so a range of that
hour alone must count it once. tests/assert_period_functions_equal_full_rollup.sql compares
the functions with the full rollup on ranges of the crafted message's targeting hours."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import RAW_TABLES, REPO, dbt, load_folder

# A dbt run of the period functions' lineage on the sample.
pytestmark = pytest.mark.slow

TEXT = "%Y-%m-%d %H:%M:%S"


def parsed(text: str) -> datetime | None:
    """A valid event time, or None (the sample holds rows that break the contract)."""
    try:
        return datetime.strptime(text, TEXT)
    except ValueError:
        return None


def craft_second_targeting(feedback: Path) -> tuple[str, str]:
    """Appends an error event for a sent message, in the hour of another message of its
    delivery sent in a later hour, under that message's profile. Returns the
    crafted message's execution and message ids."""
    with feedback.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    sent = [
        row
        for row in rows
        if row["status"] == "sent"
        and row["event_id"]
        and row["profile_id"]
        and parsed(row["event_ts"])
        and parsed(row["ingested_at"])
        # Not a row the contract rejects (an event time after its arrival: clock garbage).
        and parsed(row["event_ts"]) <= parsed(row["ingested_at"])  # type: ignore[operator]
    ]
    for first in sent:
        for later in sent:
            first_hour, later_hour = (parsed(row["event_ts"]).replace(minute=0, second=0) for row in (first, later))  # type: ignore[union-attr]
            same_delivery = (later["campaign_id"], later["execution_id"], later["channel"]) == (
                first["campaign_id"],
                first["execution_id"],
                first["channel"],
            )
            if same_delivery and later_hour > first_hour and later["profile_id"] != first["profile_id"]:
                crafted = dict(first, event_id="crafted_second_targeting", status="error", reason="crafted")
                crafted.update(event_ts=later["event_ts"], ingested_at=later["ingested_at"], profile_id=later["profile_id"])
                with feedback.open("a", newline="") as handle:
                    csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n").writerow(crafted)
                return first["execution_id"], first["message_id"]
    raise AssertionError("the sample has no delivery with messages sent in two hours")


def test_a_message_targeted_in_two_hours_counts_as_the_full_rollup(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    for table in RAW_TABLES:
        shutil.copyfile(REPO / "data" / "sample" / f"{table}.csv", events / f"{table}.csv")
    execution_id, message_id = craft_second_targeting(events / "message_feedback_events.csv")
    warehouse = tmp_path / "warehouse.duckdb"
    load_folder(events, warehouse, "csv")
    dbt(["seed"], warehouse)
    dbt(["run", "--select", "+period_delivery_report_between", "+period_channel_report_between"], warehouse)

    con = duckdb.connect(str(warehouse), read_only=True)
    targeted_hours = con.execute(
        "select distinct message_targeted_hours from marts.fct_message_hours where execution_id = ? and message_id = ?",
        [execution_id, message_id],
    ).fetchall()
    con.close()
    # Not vacuous: the crafted message is one with several targeting hours.
    assert targeted_hours == [(2,)]
    dbt(["test", "--select", "assert_period_functions_equal_full_rollup"], warehouse)
