#!/usr/bin/env python3
"""`scripts/refresh.py ARGS` is `tally refresh ARGS`: kept so existing schedules keep working."""

from tally.cli import run_script

if __name__ == "__main__":
    run_script("refresh")
