"""The refresh service (`tally watch DIR`): a refresh whenever complete files land in the
landing folder, and on a schedule; refused files moved aside with their reason."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from tally.common import utc_now
from tally.load import RefusedFile, flat
from tally.refresh.run import Refresher, append_log

LANDING_SUFFIXES = tuple(flat.FORMATS)


# The live window ends 2 minutes before the report instant: an event is countable then.
COUNTABLE_AFTER_S = 120.0


def landed_files(folder: Path) -> list[Path]:
    """Complete files in the landing folder: regular, not hidden, with a known suffix.
    Writers land a file by writing it under a hidden or .tmp name, then renaming it."""
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in LANDING_SUFFIXES
    )


def move_to(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{time.time_ns()}{path.suffix}"
    return path.rename(target)


def watch(refresher: Refresher, folder: Path, every: float, poll: float, max_refreshes: int | None) -> int:
    """Refreshes whenever complete files land in `folder`, and at least every `every`
    seconds without them (the live window moves with the clock: without new files, the
    events of the last 2 minutes before a quiet period still become countable). A bad
    file is moved to refused/ with its reason and the others still load; a failed
    refresh is logged and the next one runs on schedule."""
    stop = {"requested": False}

    def request_stop(signum: int, _frame: object) -> None:
        stop["requested"] = True
        print(f"signal {signum}: stopping after the current refresh", flush=True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"watching {folder} (refresh on new files, and every {every:g} s)", flush=True)
    refreshes = 0
    last_refresh = float("-inf")
    # Events loaded by a refresh that started at t are at most as recent as t, so they are
    # all countable (2 minutes old) by t + 2 min: a refresh is due then even if nothing
    # lands, which keeps the delay after countable short at the end of a burst.
    due: list[float] = []
    while not stop["requested"] and (max_refreshes is None or refreshes < max_refreshes):
        files = landed_files(folder)
        now = time.monotonic()
        if not files and now - last_refresh < every and not any(moment <= now for moment in due):
            time.sleep(poll)
            continue
        last_refresh = now
        due = [moment for moment in due if moment > now]
        refreshes += 1
        code = refresh_landed(refresher, folder, files)
        if files and code in (0, 1):
            due.append(now + COUNTABLE_AFTER_S)
        if code not in (0, 1, 3):
            print(f"refresh exited with code {code}; watching on", file=sys.stderr, flush=True)
    return 0


def refresh_landed(refresher: Refresher, folder: Path, files: list[Path]) -> int:
    """One watch-mode refresh: files refused by the loader (or whose name tells no table)
    are moved aside one at a time and the rest retried; loaded files move to loaded/."""
    while True:
        try:
            code = refresher.run(files, None)
        except RefusedFile as refused:
            bad = refused.path if refused.path in files else None
            print(f"refused: {refused}", file=sys.stderr, flush=True)
            if bad is None:
                return 2
            moved = move_to(bad, folder / "refused")
            moved.with_name(moved.name + ".reason.txt").write_text(str(refused) + "\n")
            append_log(refresher.warehouse, {"status": "refused", "refused_at": utc_now(), "file": str(bad), "moved_to": str(moved),
                                             "reason": str(refused)})
            files = [path for path in files if path != bad]
            continue
        if code != 3:
            # Loaded (even when dbt then failed: the rows are in and are never loaded twice).
            for path in files:
                move_to(path, folder / "loaded")
        return code
