"""The Spark benchmark's fixed and marginal refresh cost (tally.bench.spark.refresh_costs),
from refreshes as the benchmark records them: the first pays Spark's start and is left out,
the refresh that loaded nothing is the fixed cost, each loading refresh's seconds above it
per new event give the marginal cost, and their median is reported."""

from __future__ import annotations

import pytest

from tally.bench.spark import refresh_costs


def run(slice_name: str, new_events: int, seconds: float) -> dict[str, object]:
    return {"slice": slice_name, "new_events": new_events, "report_as_of": None, "seconds": seconds}


def test_fixed_cost_is_the_warm_refresh_with_nothing_new_and_marginal_the_median_per_event() -> None:
    runs = [
        run("slice_025", 40_000, 500.0),  # Spark starts: not a warm refresh
        run("slice_026", 10_000, 100.0),  # (100 - 80) s / 10,000 = 2 ms
        run("slice_027", 20_000, 140.0),  # 3 ms
        run("slice_028", 5_000, 130.0),  # 10 ms: the median, not the mean (5 ms), is reported
        run("(nothing new)", 0, 80.0),
    ]
    assert refresh_costs(runs) == {"refresh_fixed_s": 80.0, "refresh_marginal_ms_per_event": 3.0}


def test_an_even_count_of_loading_refreshes_takes_the_mean_of_the_middle_two() -> None:
    runs = [run("first", 1, 300.0), run("a", 1_000, 62.0), run("b", 1_000, 64.0), run("c", 0, 60.0)]
    assert refresh_costs(runs) == {"refresh_fixed_s": 60.0, "refresh_marginal_ms_per_event": 3.0}


def test_without_a_warm_refresh_of_nothing_new_there_is_no_fixed_cost_to_subtract() -> None:
    # The first refresh loaded nothing, but it also started Spark: it is no fixed cost.
    with pytest.raises(ValueError, match="nothing new"):
        refresh_costs([run("first", 0, 300.0), run("a", 1_000, 62.0)])
    with pytest.raises(ValueError, match="nothing new"):
        refresh_costs([run("first", 5, 300.0), run("c", 0, 60.0)])
