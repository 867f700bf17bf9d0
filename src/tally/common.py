"""Small helpers the commands share: SQL quoting, the first line of an error, the UTC
clock, and a timed child process (for the benchmarks)."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path


def quote_literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def first_line(value: object, limit: int | None = None) -> str:
    """The first line of an error (or any value), at most `limit` characters; the type's
    name when it says nothing."""
    text = str(value or "").strip()
    return text.splitlines()[0][:limit] if text else type(value).__name__


def utc_now() -> datetime:
    """Now, in UTC, as a naive datetime (the warehouse's timestamps are naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def timed(args: list[str], env: dict[str, str], cwd: Path, echo: bool = False) -> float:
    """Runs a command to completion and returns its wall time in seconds; exits with its
    output when it fails. `echo` prints a line with the time."""
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if echo:
        print(f"  {' '.join(Path(a).name if '/' in a else a for a in args[:4])} ...: {seconds:.1f} s", flush=True)
    return seconds
