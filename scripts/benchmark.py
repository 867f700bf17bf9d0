#!/usr/bin/env python3
"""`scripts/benchmark.py ARGS` is `tally bench ARGS`: kept so existing schedules keep working."""

from tally.cli import run_script

if __name__ == "__main__":
    run_script("bench")
