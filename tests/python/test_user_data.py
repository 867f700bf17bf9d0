"""The README's "load your own events" path, exactly as written, on events that are not the
bundled sample (another seed, other dates, ending near now): the loader lines, then a plain
`dbt build --vars '{report_as_of: ...}'`. It must pass with zero failures and zero
warnings: tests pinned to the sample (the golden numbers) do not run on a user's data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import PYTHON, RAW_TABLES, TALLY, run

README_BUILD = "build --vars '{report_as_of: \"2026-11-14 12:00:00\"}'"


def test_plain_build_on_generated_events_passes_without_warnings(tmp_path: Path, repo: Path) -> None:
    readme = (repo / "README.md").read_text()
    assert README_BUILD in readme, "the README's build line changed: update this test to run it as written"
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    events = tmp_path / "events"
    run([*TALLY, "generate", "--events", "30000", "--seed", "1234", "--days", "6",
         "--start", (now - timedelta(days=8)).strftime("%Y-%m-%d %H:%M:%S"), "--out", str(events)])
    warehouse = tmp_path / "prod.duckdb"
    for table in RAW_TABLES:
        run([*TALLY, "load", "--table", table, str(events / f"{table}.parquet")], warehouse)
    as_of = now.strftime("%Y-%m-%d %H:%M:%S")
    result = run([str(Path(PYTHON).with_name("dbt")), "build", "--vars", f'{{report_as_of: "{as_of}"}}',
                  "--target-path", str(tmp_path / "target")], warehouse, check=False)
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", result.stdout)
    assert result.returncode == 0 and summary, result.stdout[-4000:]
    passed, warned, errors, skipped = map(int, summary.groups())
    assert (warned, errors, skipped) == (0, 0, 0), result.stdout[-4000:]
    assert passed > 150
    assert "golden" not in result.stdout, "a golden seed or test ran on data that is not the sample"
