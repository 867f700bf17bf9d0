"""The refresh service (`tally watch DIR`): a refresh whenever complete files land in the
landing folder, and on a schedule; refused files moved aside with their reason."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tally.common import utc_now
from tally.load import RefusedFile, flat
from tally.refresh.run import LandingHooks, Refresher, append_log

LANDING_SUFFIXES = tuple(flat.FORMATS)


# The live window ends 2 minutes before the report instant: an event is countable then.
COUNTABLE_AFTER_S = 120.0


class FileChanged(Exception):
    """A landed file changed after it was taken: its writer was not done."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path}: changed while it was being loaded (its writer is not done); "
            "load rolled back, the file waits for the next pass"
        )
        self.path = path


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a file changed: inode, size, modification time (None: it is gone)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class Settling:
    """A file written in place under its final name (a writer that skips the hidden-name
    protocol) looks complete while its writer is still at it. So a landed file is taken
    only once its signature has stayed the same for `settle` seconds, and its load commits
    only if it is still the same then (`unchanged`, run inside the load's transaction);
    else the load rolls back and the file settles again. Default 10 s: longer than the
    pauses of a writer that flushes as it goes (the reported one paused 6 s), and small
    next to the 2 minutes an event waits before it is countable in the live window."""

    settle: float
    seen: dict[Path, tuple[tuple[int, int, int], float]] = field(default_factory=dict)

    def ready(self, paths: list[Path], now: float) -> list[Path]:
        """The files among `paths` unchanged for the settle period, as of `now` (monotonic s)."""
        current: dict[Path, tuple[tuple[int, int, int], float]] = {}
        for path in paths:
            signature = file_signature(path)
            if signature is None:
                continue
            previous = self.seen.get(path)
            current[path] = (signature, previous[1] if previous and previous[0] == signature else now)
        self.seen = current
        return [path for path, (_, since) in current.items() if now - since >= self.settle]

    def unchanged(self, paths: list[Path]) -> None:
        """Raises FileChanged for the first of `paths` not as it was when found ready."""
        for path in paths:
            taken = self.seen.get(path)
            if taken is None or file_signature(path) != taken[0]:
                self.seen.pop(path, None)
                raise FileChanged(path)


def landed_files(folder: Path) -> list[Path]:
    """Complete files in the landing folder: regular, not hidden, with a known suffix.
    Writers land a file by writing it under a hidden or .tmp name, then renaming it."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in LANDING_SUFFIXES
    )


def move_to(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{time.time_ns()}{path.suffix}"
    return path.rename(target)


def watch(refresher: Refresher, folder: Path, every: float, poll: float, max_refreshes: int | None, settle: float = 10.0) -> int:
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
    settling = Settling(settle)
    last_refresh = float("-inf")
    # Events loaded by a refresh that started at t are at most as recent as t, so they are
    # all countable (2 minutes old) by t + 2 min: a refresh is due then even if nothing
    # lands, which keeps the delay after countable short at the end of a burst.
    due: list[float] = []
    while not stop["requested"] and (max_refreshes is None or refreshes < max_refreshes):
        now = time.monotonic()
        files = settling.ready(landed_files(folder), now)
        if not files and now - last_refresh < every and not any(moment <= now for moment in due):
            time.sleep(poll)
            continue
        last_refresh = now
        due = [moment for moment in due if moment > now]
        refreshes += 1
        code = refresh_landed(refresher, folder, files, settling)
        if files and code in (0, 1):
            due.append(now + COUNTABLE_AFTER_S)
        if code not in (0, 1, 3):
            print(f"refresh exited with code {code}; watching on", file=sys.stderr, flush=True)
    return 0


def take_loaded(folder: Path, settling: Settling, taken: set[Path], paths: list[Path]) -> None:
    """Moves files whose load just committed to loaded/ at once (a writer still holding
    one would otherwise keep writing into landing until the end of the refresh), and
    says so if one changed after all (its newer rows are not loaded)."""
    for path in paths:
        if path in taken or not path.exists():
            continue
        signature = settling.seen.get(path, (None, 0.0))[0]
        moved = move_to(path, folder / "loaded")
        taken.add(path)
        if signature is not None and file_signature(moved) != signature:
            print(
                f"warning: {moved} changed after its load committed: rows written since are not loaded",
                file=sys.stderr,
                flush=True,
            )


def refresh_landed(refresher: Refresher, folder: Path, files: list[Path], settling: Settling | None = None) -> int:
    """One watch-mode refresh: files refused by the loader (or whose name tells no table)
    are moved aside one at a time and the rest retried; loaded files move to loaded/ as
    soon as their load commits. A file that changed during its load (FileChanged) rolls
    that load back and stays, with the files not loaded yet, for the next pass (exit 4)."""
    settling = settling or Settling(0.0)
    if not settling.seen:
        settling.ready(files, time.monotonic())
    taken: set[Path] = set()
    # The loader names files by their resolved path; the landing folder by their own.
    landed = {path.resolve(): path for path in files}
    hooks = LandingHooks(
        before_commit=lambda paths: settling.unchanged([landed.get(path, path) for path in paths]),
        after_commit=lambda paths: take_loaded(folder, settling, taken, [landed.get(path, path) for path in paths]),
    )
    while True:
        try:
            code = refresher.run(files, None, landing=hooks)
        except FileChanged as changed:
            print(f"not loaded yet: {changed}", file=sys.stderr, flush=True)
            append_log(
                refresher.warehouse,
                {"status": "changed", "changed_at": utc_now(), "file": str(changed.path), "reason": str(changed)},
            )
            return 4
        except RefusedFile as refused:
            bad = refused.path if refused.path in files else None
            print(f"refused: {refused}", file=sys.stderr, flush=True)
            if bad is None:
                return 2
            moved = move_to(bad, folder / "refused")
            moved.with_name(moved.name + ".reason.txt").write_text(str(refused) + "\n")
            append_log(
                refresher.warehouse,
                {"status": "refused", "refused_at": utc_now(), "file": str(bad), "moved_to": str(moved), "reason": str(refused)},
            )
            files = [path for path in files if path != bad]
            continue
        if code != 3:
            # Loaded (even when dbt then failed: the rows are in and are never loaded twice).
            take_loaded(folder, settling, taken, files)
        return code
