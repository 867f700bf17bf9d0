"""The live window read as whole hours from the hour facts plus its two edge hours from the
events (issue 22) is exact at every edge, through the refresh itself (its dbt selection):

* events at the edges of whole hours (xx:00:00.000000 and xx:59:59.999999), in the edge
  hours and in whole hours, are each counted once, in their hour;
* an event exactly at the window's start is out, one a microsecond later is in; one exactly
  at the window's end is in, one a microsecond later is out;
* late events into old hours inside the window (a delivery, a bounce, a click, a retry
  answered) reach the live marts at the next refresh: the refresh rebuilds the hour facts
  before the live marts;
* after each refresh the live inputs and time series equal the same computed from the
  window's events alone (the singular tests assert_live_window_equals_its_events and
  assert_live_timeseries_equals_window_events).
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from conftest import TALLY, dbt, run

FEEDBACK = [
    "event_id",
    "event_ts",
    "campaign_id",
    "execution_id",
    "message_id",
    "profile_id",
    "channel",
    "status",
    "failure_type",
    "reason",
]
TRACKING = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "interaction", "url"]
# Window (2026-11-03 06:30:00, 2026-11-04 06:28:00]: edge hours 2026-11-03 06:00 and
# 2026-11-04 06:00, whole hours 2026-11-03 07:00 to 2026-11-04 05:00.
AS_OF = "2026-11-04 06:30:00"
SENT = {
    "before_window": ("2026-11-03 05:59:59.999999", False),
    "at_start": ("2026-11-03 06:30:00.000000", False),
    "after_start": ("2026-11-03 06:30:00.000001", True),
    "start_hour_last": ("2026-11-03 06:59:59.999999", True),
    "whole_first": ("2026-11-03 07:00:00.000000", True),
    "whole_middle_first": ("2026-11-03 12:00:00.000000", True),
    "whole_middle_last": ("2026-11-03 12:59:59.999999", True),
    "whole_last": ("2026-11-04 05:59:59.999999", True),
    "end_hour_first": ("2026-11-04 06:00:00.000000", True),
    "at_end": ("2026-11-04 06:28:00.000000", True),
    "after_end": ("2026-11-04 06:28:00.000001", False),
}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def feedback_row(event_id: str, ts: str, message: str, status: str, failure_type: str = "", reason: str = "") -> list[str]:
    return [event_id, ts, "c_edge", "x1", message, f"p_{message}", "email", status, failure_type, reason]


def tracking_row(event_id: str, ts: str, message: str, interaction: str, url: str = "") -> list[str]:
    return [event_id, ts, "c_edge", "x1", message, f"p_{message}", "email", interaction, url]


def refresh(warehouse: Path, *files: str) -> None:
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--report-as-of", AS_OF, *files])


def live_counts(warehouse: Path) -> dict[str, object]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        statistics = con.execute(
            "select sent, delivered, bounces, hard_bounces, clicks, unique_clicks, retries, opens "
            "from marts.live_delivery_statistics where campaign_id = 'c_edge'"
        ).fetchone()
        hours = dict(
            con.execute(
                "select strftime(hour_start, '%Y-%m-%d %H'), sent from marts.live_delivery_timeseries "
                "where campaign_id = 'c_edge' and sent > 0"
            ).fetchall()
        )
        retries = dict(
            con.execute(
                "select strftime(hour_start, '%Y-%m-%d %H'), retries from marts.live_delivery_timeseries "
                "where campaign_id = 'c_edge' and retries > 0"
            ).fetchall()
        )
        reasons = con.execute(
            "select reason_kind, failure_type, reason, events from marts.live_delivery_reasons where campaign_id = 'c_edge'"
        ).fetchall()
        messages = {
            row[0]
            for row in con.execute(
                "select message_id from intermediate.int_messages_in_live_window where campaign_id = 'c_edge' and sent > 0"
            ).fetchall()
        }
    finally:
        con.close()
    names = ["sent", "delivered", "bounces", "hard_bounces", "clicks", "unique_clicks", "retries", "opens"]
    return {
        **dict(zip(names, statistics, strict=True)),
        "hours": hours,
        "retries_by_hour": retries,
        "reasons": reasons,
        "messages": messages,
    }


def assert_equal_to_window_events(warehouse: Path) -> None:
    result = dbt(
        [
            "test",
            "--select",
            "assert_live_window_equals_its_events",
            "assert_live_timeseries_equals_window_events",
            "--vars",
            f"{{report_as_of: '{AS_OF}'}}",
        ],
        warehouse,
        check=False,
    )
    passed = [line for line in result.stdout.splitlines() if " PASS assert_live_" in line]
    assert result.returncode == 0 and len(passed) == 2, result.stdout[-3000:]


@pytest.mark.slow
def test_live_window_edges_whole_hours_and_late_events(tmp_path: Path) -> None:
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    batch = tmp_path / "batch1"
    batch.mkdir()
    feedback = [feedback_row(f"s_{name}", ts, name, "sent") for name, (ts, _) in SENT.items()]
    # A retry in a whole hour, answered only by the late batch (in another whole hour).
    feedback.append(feedback_row("r_whole_first", "2026-11-03 07:10:00", "whole_first", "retry"))
    tracking = [tracking_row(f"o_{name}", ts, name, "open") for name, (ts, _) in SENT.items()]
    refresh(
        warehouse,
        write_csv(batch / "message_feedback_events.csv", FEEDBACK, feedback),
        write_csv(batch / "message_tracking_events.csv", TRACKING, tracking),
    )
    inside = {name for name, (_, counted) in SENT.items() if counted}
    first = live_counts(warehouse)
    assert first["messages"] == inside
    assert (first["sent"], first["opens"], first["delivered"], first["retries"]) == (len(inside), len(inside), 0, 1)
    assert first["hours"] == {
        "2026-11-03 06": 2,
        "2026-11-03 07": 1,
        "2026-11-03 12": 2,
        "2026-11-04 05": 1,
        "2026-11-04 06": 2,
    }
    # Queued from the end of 07:00 to the window's end.
    assert set(first["retries_by_hour"].values()) == {1} and len(first["retries_by_hour"]) == 24
    assert_equal_to_window_events(warehouse)

    # Late events, loaded a day after they happened, into old hours inside the window (and
    # one into the hour before the window, which stays out).
    late = tmp_path / "batch2"
    late.mkdir()
    late_feedback = [
        feedback_row("d_whole_first", "2026-11-03 09:00:00.000000", "whole_first", "delivered"),
        feedback_row("b_middle", "2026-11-03 12:59:59.999999", "whole_middle_first", "bounce", "hard", "550"),
        feedback_row("b_start", "2026-11-03 06:45:00", "after_start", "bounce", "soft", "421"),
        feedback_row("d_before", "2026-11-03 05:59:59.999999", "before_window", "delivered"),
    ]
    late_tracking = [
        tracking_row("c_whole_last", "2026-11-04 05:00:00.000000", "whole_last", "click", "https://example.com/a"),
        tracking_row("c_end", "2026-11-04 06:28:00.000000", "at_end", "click", "https://example.com/a"),
    ]
    refresh(
        warehouse,
        write_csv(late / "message_feedback_events-late.csv", FEEDBACK, late_feedback),
        write_csv(late / "message_tracking_events-late.csv", TRACKING, late_tracking),
    )
    second = live_counts(warehouse)
    assert (second["sent"], second["delivered"], second["bounces"], second["hard_bounces"]) == (len(inside), 1, 2, 1)
    assert (second["clicks"], second["unique_clicks"], second["retries"]) == (2, 2, 0)
    assert sorted((kind, failure_type, reason, events) for kind, failure_type, reason, events in second["reasons"]) == [
        ("bounce", "hard", "550", 1),
        ("bounce", "soft", "421", 1),
    ]
    # The answered retry leaves the queue at the end of the delivery's hour (09:00).
    assert sorted(second["retries_by_hour"]) == ["2026-11-03 07", "2026-11-03 08"]
    assert_equal_to_window_events(warehouse)
