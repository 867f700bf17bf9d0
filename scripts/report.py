#!/usr/bin/env python3
"""`scripts/report.py ARGS` is `tally report ARGS`: kept so existing schedules keep working."""

from tally.cli import run_script

if __name__ == "__main__":
    run_script("report")
