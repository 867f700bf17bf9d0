#!/usr/bin/env python3
"""`scripts/load_events.py ARGS` is `tally load ARGS`: kept so existing schedules keep working."""

from tally.cli import run_script

if __name__ == "__main__":
    run_script("load")
