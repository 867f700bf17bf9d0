"""`tally`: the messaging warehouse's one command.

Each subcommand owns its options (`tally SUBCOMMAND --help`); this module only names them
and hands the rest of the command line over, importing a subcommand's module when it runs
(so `tally --help` and `tally report` never import dbt).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tally import __version__


@dataclass(frozen=True)
class Command:
    target: str  # "module:function", the function taking (argv, prog) and returning an exit code
    summary: str


COMMANDS: dict[str, Command] = {
    "load": Command("tally.load.command:main", "append event files (flat contract or AJO exports) to the raw tables"),
    "refresh": Command("tally.refresh.command:main", "live refresh: load new files, rebuild the live marts, publish"),
    "watch": Command("tally.refresh.command:watch_main", "live refresh as a service: refresh as files land in DIR"),
    "publish": Command("tally.refresh.command:publish_main", "publish the current marts to the serving file BI tools read"),
    "report": Command("tally.report:main", "print the headline report from the marts"),
    "export": Command("tally.export:main", "write the period or live report as CSV, Parquet or one HTML file"),
    "alerts": Command("tally.alerts:main", "print the open alerts of the newest publish; exit 1 while one is open"),
    "generate": Command("tally.generate.command:main", "write generated events (flat files, or the platform's exports)"),
    "golden": Command("tally.reference:main", "the independent reference: expected numbers from raw files"),
    "bench": Command("tally.bench.command:main", "benchmark build, refresh and queries against the floor (`bench spark`: Spark)"),
    "postgres": Command("tally.local_postgres:main", "start or stop a private local PostgreSQL server"),
    "dashboard": Command("tally.cli:dashboard", "the reports in a browser (Streamlit on dashboard/app.py)"),
}
# Subcommands with subcommands of their own: `tally bench spark`.
NESTED: dict[tuple[str, str], Command] = {
    ("bench", "spark"): Command("tally.bench.spark:main", "benchmark the Spark target against the same floor"),
}


def build_parser(prog: str = "tally") -> argparse.ArgumentParser:
    """The top-level parser: for `tally --help`, `--version` and unknown subcommands. Each
    subcommand parses its own arguments."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="The messaging analytics warehouse (dbt on DuckDB): load events, refresh and publish the "
        "marts, print the reports, generate and benchmark.",
        epilog="Run `tally SUBCOMMAND --help` for a subcommand's options. dbt itself runs as `dbt build`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    for name, command in COMMANDS.items():
        subcommands.add_parser(name, help=command.summary, add_help=False)
    return parser


def resolve(target: str):  # type: ignore[no-untyped-def]
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None, prog: str = "tally") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        build_parser(prog).parse_args(argv)  # prints help, the version, or the usage error (exit 0 or 2)
        return 2
    name, rest = argv[0], argv[1:]
    command = COMMANDS[name]
    if rest and (name, rest[0]) in NESTED:
        command = NESTED[(name, rest[0])]
        name, rest = f"{name} {rest[0]}", rest[1:]
    return call(command.target, rest, f"{prog} {name}")


def call(target: str, argv: list[str], prog: str) -> int:
    """Runs a command's entry point; a reader that left (`tally report | head`) ends it
    quietly instead of with a traceback."""
    try:
        return int(resolve(target)(argv, prog=prog) or 0)
    except BrokenPipeError:
        # Python's documented handling: point stdout at devnull so the exit's flush does not
        # raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a process ended by SIGPIPE (128 + 13)


def run_script(command: str) -> None:
    """What a `scripts/*.py` shim runs: `tally COMMAND ARGS`, under the script's own name in
    usage and error messages, so existing schedules and their logs keep working."""
    words = command.split()
    target = NESTED[(words[0], words[1])] if len(words) == 2 else COMMANDS[words[0]]
    sys.exit(call(target.target, sys.argv[1:], Path(sys.argv[0]).name))


def no_serving_message(serving: Path) -> str:
    """Nothing published yet: on one's own events that means publish (a build is not a
    publish); `make demo` only for the bundled sample."""
    return (
        f"no {serving} yet: publish the built marts with `tally publish` (make publish), after a `dbt build`; "
        "for the bundled sample, `make demo` builds and publishes it"
    )


def dashboard(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Starts Streamlit on dashboard/app.py, reading the published serving file."""
    from tally import settings

    parser = argparse.ArgumentParser(
        prog=prog,
        description="The reports in a browser: Streamlit on dashboard/app.py, reading the published serving "
        "file ($SERVING_PATH, else serving.duckdb beside $WAREHOUSE_PATH) read-only. Ctrl+C stops it.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("DASHBOARD_PORT", "8501")),
        help="port on 127.0.0.1 (default: $DASHBOARD_PORT, else 8501)",
    )
    args = parser.parse_args(argv)
    serving = (
        Path(os.environ["SERVING_PATH"]) if os.environ.get("SERVING_PATH") else settings.serving_path(settings.warehouse_path())
    )
    if not serving.exists():
        print(no_serving_message(serving), file=sys.stderr)
        return 2
    app = settings.REPO_ROOT / "dashboard" / "app.py"
    print(f"Dashboard on http://127.0.0.1:{args.port} (Ctrl+C stops it)", flush=True)
    streamlit = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.port",
        str(args.port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    os.execv(sys.executable, streamlit)
