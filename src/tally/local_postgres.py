"""Start or stop a private PostgreSQL server on 127.0.0.1 for the `postgres` dbt target.

Uses Debian's `postgresql` package (install it with `apt-get install -y postgresql`; this
script says so when it is missing). The cluster lives in its own folder, owned by the
`postgres` user (initdb refuses root), listens on loopback only, trusts local
connections (a throwaway test server: no password to keep anywhere), and holds one
database, `warehouse`. Prints the DBT_PG_* variables to export.

    tally postgres start --dir /tmp/pg --port 55432
    tally postgres stop --dir /tmp/pg
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

DATABASE = "warehouse"


def server_bin(name: str) -> str:
    """A PostgreSQL server program from Debian's versioned folder (newest version)."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise SystemExit(f"PostgreSQL's {name} not found: install Debian's server (apt-get install -y postgresql)")
    return candidates[-1]


def as_postgres(args: list[str]) -> list[str]:
    """Runs as the `postgres` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(folder: Path, port: int) -> dict[str, str]:
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
            if subprocess.run(as_postgres(["test", "-w", str(folder)]), capture_output=True).returncode != 0:
                raise SystemExit(
                    f"the postgres user cannot reach {folder} (a parent folder is private): choose a --dir such as /tmp/pg"
                )
        subprocess.run(
            as_postgres([server_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]),
            check=True,
            capture_output=True,
        )
    ready = [server_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)]
    running = (data / "postmaster.pid").exists() and subprocess.run(ready, capture_output=True).returncode == 0
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off -c full_page_writes=off"
    )
    if not running:
        subprocess.run(
            as_postgres(
                [
                    server_bin("pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(folder / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
    deadline = time.monotonic() + 30
    while subprocess.run(ready, capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise SystemExit(f"PostgreSQL did not accept connections on port {port}; see {folder / 'server.log'}")
        time.sleep(0.2)
    psql = shutil.which("psql") or server_bin("psql")
    exists = subprocess.run(
        [
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-tAc",
            f"select 1 from pg_database where datname = '{DATABASE}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(
            [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", f"create database {DATABASE}"],
            check=True,
            capture_output=True,
        )
    return {"DBT_PG_HOST": "127.0.0.1", "DBT_PG_PORT": str(port), "DBT_PG_USER": "postgres", "DBT_PG_DBNAME": DATABASE}


def stop(folder: Path) -> None:
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            as_postgres([server_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), check=False, capture_output=True
        )


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, required=True, help="the cluster's folder (created on first start)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if args.action == "stop":
        stop(args.dir.resolve())
        return 0
    env = start(args.dir.resolve(), args.port or free_port())
    for key, value in env.items():
        print(f"export {key}={value}")
    return 0
