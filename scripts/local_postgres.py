#!/usr/bin/env python3
"""`scripts/local_postgres.py ARGS` is `tally postgres ARGS`: kept so existing schedules keep working."""

from tally.cli import run_script

if __name__ == "__main__":
    run_script("postgres")
