"""Loading event files into the raw tables: flat files (tally.load.flat), the Parquet lake,
PostgreSQL, and the platform's own exports (tally.load.ajo). The command is tally.load.command."""

from __future__ import annotations

from pathlib import Path


class RefusedFile(Exception):
    """A file that does not fit the contract; the message says what to fix, `path` names the file."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path
