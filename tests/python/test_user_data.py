"""The README's "Load your own events" block, run line by line exactly as written, on events
that are not the bundled sample (another seed, other dates, ending now), then the hourly
full build (`make build`). The block is read from README.md between the own-data markers.

Its defaults: no option the README leaves unset (no --vars: the live window ends now;
`tally dashboard` on its port, given by $DASHBOARD_PORT, the command's documented default,
so a dashboard already open on 8501 does not answer for this one). It runs in a throwaway
checkout: a folder of symlinks to the repository's files and .venv (conftest.mirror_repo),
so `$PWD/warehouse/prod/warehouse.duckdb`, `exports/...`, dbt's target/ and logs/ are the folder's
own, the lines stay literal, and nothing is written into the repository.

The block's `dbt build` must pass with zero failures and zero warnings: tests pinned to the
sample (the golden numbers) do not run on a user's data."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, TALLY, mirror_repo, project_env, run

MARKERS = ("<!-- own-data:start -->", "<!-- own-data:end -->")


def own_data_lines(readme: Path) -> list[str]:
    """The commands of the README's own-data block, in order, as written."""
    text = readme.read_text()
    start, end = (text.index(marker) for marker in MARKERS)
    block = text[start + len(MARKERS[0]) : end]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("```")]


def write_exports(folder: Path, now: datetime) -> None:
    """Generated events ending now, under the file names the block loads."""
    generated = folder / "generated"
    start = (now - timedelta(days=3, hours=12)).strftime("%Y-%m-%d %H:%M:%S")
    run(
        [
            *TALLY,
            "generate",
            "--events",
            "20000",
            "--seed",
            "4242",
            "--days",
            "3",
            "--start",
            start,
            "--slices",
            "2",
            "--format",
            "parquet",
            "--out",
            str(generated),
        ]
    )
    exports = folder / "exports"
    exports.mkdir()
    slices = [generated / "slice_001", generated / "slice_002"]
    con = duckdb.connect()
    try:
        for index, part in enumerate(slices, start=1):
            (exports / f"feedback-{index}.parquet").write_bytes((part / "message_feedback_events.parquet").read_bytes())
        for table, name, options in [
            ("message_tracking_events", "tracking.csv", "format csv, header true"),
            ("offer_propositions", "offers.ndjson", "format json"),
            ("campaigns", "campaigns.csv", "format csv, header true"),
        ]:
            files = ", ".join(f"'{part / f'{table}.parquet'}'" for part in slices)
            con.execute(f"copy (select * from read_parquet([{files}]) order by all) to '{exports / name}' ({options})")
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def sections(output: str) -> dict[str, str]:
    """The shell's output per README line (each line is echoed with a +++ mark before it runs)."""
    parts = re.split(r"^\+\+\+ (.*)$", output, flags=re.MULTILINE)
    return {parts[index]: parts[index + 1] for index in range(1, len(parts) - 1, 2)}


@pytest.mark.slow
def test_readme_own_data_block_runs_as_written_on_generated_events(tmp_path: Path) -> None:
    lines = own_data_lines(REPO / "README.md")
    assert lines[-1].startswith("tally dashboard"), "the block no longer ends with the dashboard: update this test"
    assert any(line.split("#")[0].strip() == "dbt build" for line in lines), lines
    # The checkout's .venv is the repository's: bring it up to date there first, so the
    # block's `make install` finds it installed (as it would on a second run).
    subprocess.run(["make", "--no-print-directory", "install"], cwd=REPO, check=True, capture_output=True)
    checkout = mirror_repo(tmp_path / "checkout")
    write_exports(checkout, datetime.now(UTC).replace(tzinfo=None))
    port = free_port()
    env = {key: value for key, value in project_env().items() if key not in ("WAREHOUSE_PATH", "DBT_PROFILES_DIR", "VIRTUAL_ENV")}
    env["DASHBOARD_PORT"] = str(port)
    # One shell, the lines in order (so `source` and `export` carry over), stopping at the
    # first that fails; the last, the dashboard, runs until it is stopped.
    script = "set -eo pipefail\n" + "".join(f"echo {shlex.quote('+++ ' + line)}\n{line}\n" for line in lines)
    output_path = tmp_path / "shell.log"
    with output_path.open("w") as output:
        shell = subprocess.Popen(
            ["bash", "-c", script], cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 1200
            while not answers(port) and shell.poll() is None and time.monotonic() < deadline:
                time.sleep(1)
            assert answers(port), f"the dashboard never answered on {port}:\n{output_path.read_text()[-6000:]}"
        finally:
            if shell.poll() is None:
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=60)
    said = sections(output_path.read_text())
    assert list(said) == lines, output_path.read_text()[-6000:]

    build = said[next(line for line in lines if line.startswith("dbt build"))]
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", build)
    assert summary, build[-4000:]
    passed, warned, errors, skipped = map(int, summary.groups())
    assert (warned, errors, skipped) == (0, 0, 0) and passed > 150, build[-4000:]
    assert "golden" not in build, "a golden seed or test ran on data that is not the sample"

    report = said[next(line for line in lines if line.startswith("tally report"))]
    live = re.findall(r"^Live report: .*\((\d+) rows\)$", report, flags=re.MULTILINE)
    assert len(live) == 2 and all(int(count) > 0 for count in live), report
    assert "(0 rows)" not in report and "not built yet" not in report, report

    prod = checkout / "warehouse" / "prod" / "warehouse.duckdb"
    # Its own folder: its serving file is its own, never the demo's warehouse/serving.duckdb.
    serving = checkout / "warehouse" / "prod" / "serving.duckdb"
    assert prod.exists() and serving.exists()
    published = serving.stat().st_mtime_ns
    # The hourly full build on the same warehouse (the README: every hour `make build`).
    hourly = subprocess.run(
        ["make", "--no-print-directory", "build"],
        cwd=checkout,
        env=dict(env, WAREHOUSE_PATH=str(prod)),
        capture_output=True,
        text=True,
    )
    assert hourly.returncode == 0, hourly.stdout[-4000:] + hourly.stderr[-4000:]
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", hourly.stdout)
    assert summary and summary.groups()[1:] == ("0", "0", "0"), hourly.stdout[-4000:]
    assert serving.stat().st_mtime_ns > published, "make build did not publish"
    # Nothing of this run is in the repository.
    assert not (REPO / "exports").exists() and not (REPO / "warehouse" / "prod").exists()
