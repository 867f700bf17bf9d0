"""Alerts (issue 23): each rule from events written for it, the cases that must not trigger,
`tally alerts` as a scheduler runs it, and alerts that close when the window moves on.

Every delivery below is one case, in the live window of AS_OF unless said otherwise; the
published marts.live_alerts must hold exactly the expected delivery alerts, and the
domain alert of the bouncing domain.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import TALLY, run

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 11, 10, 12, 0, 0)
FEEDBACK = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "status"]
FEEDBACK += ["failure_type", "reason", "recipient_address"]
TRACKING = ["event_id", "event_ts", "campaign_id", "execution_id", "message_id", "profile_id", "channel", "interaction"]


def delivery(
    feedback: list, tracking: list, campaign: str, sent: int, *, bounces: int = 0, complaints: int = 0,
    unsubscriptions: int = 0, hours_before: float = 3, domain: str = "example.org",
) -> None:  # fmt: skip
    """`sent` email messages of one delivery (hours_before AS_OF): the first `bounces` hard
    bounce, the others are delivered; `complaints` and `unsubscriptions` on delivered ones."""
    at = AS_OF - timedelta(hours=hours_before)
    execution = f"{campaign}_x{int(hours_before)}"
    for n in range(sent):
        message = f"{execution}_m{n}"
        row = [campaign, execution, message, f"p_{message}", "email"]
        feedback.append([f"s_{message}", str(at), *row, "sent", "", "", f"{message}@{domain}"])
        if n < bounces:
            feedback.append([f"b_{message}", str(at + timedelta(minutes=1)), *row, "bounce", "hard", "user_unknown", ""])
            continue
        feedback.append([f"d_{message}", str(at + timedelta(minutes=1)), *row, "delivered", "", "", ""])
        delivered = n - bounces
        if delivered < complaints:
            tracking.append([f"c_{message}", str(at + timedelta(minutes=30)), *row, "spam_complaint"])
        elif delivered < complaints + unsubscriptions:
            tracking.append([f"u_{message}", str(at + timedelta(minutes=30)), *row, "unsubscribe"])


def write(folder: Path, feedback: list, tracking: list) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, header, rows in (("message_feedback_events", FEEDBACK, feedback), ("message_tracking_events", TRACKING, tracking)):
        path = folder / f"{name}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        files.append(str(path))
    return files


def alerts(serving: Path, scope: str) -> set[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return set(
            con.execute(
                "select coalesce(campaign_id, recipient_domain, channel), metric, alert_rule, severity, numerator, denominator "
                "from marts.live_alerts where alert_scope = ?",
                [scope],
            ).fetchall()
        )
    finally:
        con.close()


def test_alert_rules_open_and_close(tmp_path: Path) -> None:
    feedback: list = []
    tracking: list = []
    delivery(feedback, tracking, "c_bounces", 200, bounces=20, domain="bad.example")  # 10 %: critical
    delivery(feedback, tracking, "c_fine", 400, bounces=4)  # 1 %: below 5 %
    delivery(feedback, tracking, "c_complaints", 400, complaints=2)  # 0.5 % of delivered: critical (0.3 %)
    delivery(feedback, tracking, "c_small", 20, complaints=1)  # 5 %, but of 20 delivered: no alert
    delivery(feedback, tracking, "c_one_of_three", 3, bounces=1)  # 1 of 3: no alert
    delivery(feedback, tracking, "c_unsubscribes", 150, unsubscriptions=2)  # 1.3 %: warning (1 %)
    # The campaign's own baseline: 1 % over the 30 days before the window, 4 % now: 3x.
    delivery(feedback, tracking, "c_baseline", 1000, bounces=10, hours_before=24 * 8)
    delivery(feedback, tracking, "c_baseline", 200, bounces=8)
    files = write(tmp_path / "batch", feedback, tracking)
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--report-as-of", f"{AS_OF:%Y-%m-%d %H:%M:%S}", *files])
    serving = warehouse.with_name("serving.duckdb")

    assert alerts(serving, "delivery") == {
        ("c_bounces", "bounce_rate", "threshold", "critical", 20, 200),
        ("c_complaints", "complaint_rate", "threshold", "critical", 2, 400),
        ("c_unsubscribes", "unsubscribe_rate", "threshold", "warning", 2, 150),
        ("c_baseline", "bounce_rate", "baseline", "warning", 8, 200),
    }
    assert ("bad.example", "bounce_rate", "threshold", "critical", 20, 200) in alerts(serving, "recipient_domain")

    printed = run([*TALLY, "alerts", "--serving", str(serving)], check=False)
    assert printed.returncode == 1, printed.stdout + printed.stderr
    assert "c_complaints" in printed.stdout and "complaint_rate" in printed.stdout and "50.0%" not in printed.stdout
    critical_only = run([*TALLY, "alerts", "--serving", str(serving), "--fail-on", "critical"], check=False)
    assert critical_only.returncode == 1

    # Three days later nothing of it is in the live window: the next refresh closes them.
    later = AS_OF + timedelta(days=3)
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--report-as-of", f"{later:%Y-%m-%d %H:%M:%S}"])
    assert alerts(serving, "delivery") == set()
    quiet = run([*TALLY, "alerts", "--serving", str(serving)], check=False)
    assert quiet.returncode == 0 and "No open alert." in quiet.stdout, quiet.stdout + quiet.stderr
    missing = run([*TALLY, "alerts", "--serving", str(tmp_path / "none.duckdb")], check=False)
    assert missing.returncode == 2 and "nothing published" in missing.stderr
