#!/usr/bin/env python3
"""`scripts/expected_deliveries.py ARGS` is `tally golden ARGS`: kept so existing schedules keep working."""

from tally.cli import run_script

if __name__ == "__main__":
    run_script("golden")
