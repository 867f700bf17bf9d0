"""The experiments' statistics are anytime-valid (issue 24): simulated experiments, looked at
after every batch of arrivals, with the formulas of tally.experiment_reference (the second
implementation, equal to the SQL of the marts: test_experiments.py).

* A/A (no true difference): the share of experiments ever declared significant at any of
  the looks stays at or below the level's alpha (5 %), within 3 standard errors of a
  binomial share over the simulated experiments; a fixed-horizon 95 % interval read at
  the same looks is declared significant far more often (peeking).
* A/B (a true lift): the confidence sequence finds it, in the right direction.

Vectorised with numpy: every experiment's cumulative counts at every look are one array,
so thousands of experiments take a second or two. The seeds are fixed: the figures are the
same on every run."""

from __future__ import annotations

import math

import numpy as np

from tally.experiment_reference import DEFAULT_LEVEL, DEFAULT_RHO_SQUARED, confidence_sequence

ALPHA = 1 - DEFAULT_LEVEL
EXPERIMENTS = 2000
LOOKS = 40
# Margin on a share estimated from EXPERIMENTS experiments: 3 binomial standard errors at alpha.
MARGIN = 3 * math.sqrt(ALPHA * (1 - ALPHA) / EXPERIMENTS)


def simulate(
    rate_baseline: float,
    rate_treatment: float,
    batch_baseline: int,
    batch_treatment: int,
    seed: int,
    counts: bool = False,
) -> tuple[np.ndarray, ...]:
    """Cumulative (n, sum, sum of squares) per arm at every look, shape (EXPERIMENTS, LOOKS).
    Bernoulli outcomes; with `counts`, Poisson counts per profile (clicks per profile)."""
    rng = np.random.default_rng(seed)
    arms = []
    for rate, batch in ((rate_treatment, batch_treatment), (rate_baseline, batch_baseline)):
        if counts:
            values = rng.poisson(rate, size=(EXPERIMENTS, LOOKS, batch))
            sums, squares = values.sum(axis=2), (values * values).sum(axis=2)
        else:
            sums = rng.binomial(batch, rate, size=(EXPERIMENTS, LOOKS))
            squares = sums
        n = np.full((EXPERIMENTS, LOOKS), batch)
        arms += [np.cumsum(n, axis=1), np.cumsum(sums, axis=1), np.cumsum(squares, axis=1)]
    return tuple(arms)


def ever_significant(arms: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per experiment: ever significant under the confidence sequence (the running
    intersection excludes 0, i.e. the running minimum p-value is at most alpha), the running
    bounds at the last look, and ever significant under a fixed-horizon 95 % interval."""
    n_t, s_t, q_t, n_0, s_0, q_0 = arms
    difference, radius, p_value = confidence_sequence(n_t, s_t, q_t, n_0, s_0, q_0, ALPHA, DEFAULT_RHO_SQUARED)
    lower = np.maximum.accumulate(np.nan_to_num(difference - radius, nan=-np.inf), axis=1)
    upper = np.minimum.accumulate(np.nan_to_num(difference + radius, nan=np.inf), axis=1)
    sequence = ((lower > 0) | (upper < 0)).any(axis=1)
    assert np.array_equal(sequence, (np.minimum.accumulate(p_value, axis=1) <= ALPHA).any(axis=1))
    # The fixed-horizon (Wald) interval, valid at one pre-set look only.
    mean_t, mean_0 = s_t / n_t, s_0 / n_0
    standard_error = np.sqrt((q_t / n_t - mean_t**2) / n_t + (q_0 / n_0 - mean_0**2) / n_0)
    fixed = (np.abs(difference) > 1.959964 * standard_error).any(axis=1)
    return sequence, lower[:, -1], upper[:, -1], fixed


def test_a_a_experiments_read_at_every_look_stay_within_the_level() -> None:
    """No true difference: the confidence sequence declares at most alpha of the experiments
    significant over 40 looks; the fixed-horizon interval read at the same looks, several
    times alpha. Unique metrics at 3 % and 20 %, equal and 70/30 allocations, and a count
    metric (Poisson clicks per profile)."""
    cases = [
        (0.03, 0.03, 250, 250, 11, False),
        (0.20, 0.20, 250, 250, 12, False),
        (0.10, 0.10, 350, 150, 13, False),
        (0.15, 0.15, 250, 250, 14, True),
    ]
    for rate_0, rate_t, batch_0, batch_t, seed, counts in cases:
        sequence, _, _, fixed = ever_significant(simulate(rate_0, rate_t, batch_0, batch_t, seed, counts))
        share, fixed_share = sequence.mean(), fixed.mean()
        print(
            f"A/A rate {rate_0} batches {batch_t}/{batch_0} counts={counts}: sequence {share:.4f}, fixed-horizon {fixed_share:.4f}"
        )
        assert share <= ALPHA + MARGIN, (rate_0, share)
        assert fixed_share > 2 * ALPHA, (rate_0, fixed_share)


def test_a_b_experiments_find_a_true_lift_in_its_direction() -> None:
    """A true lift of 20 % (10 % -> 12 %) and a true drop (12 % -> 10 %), 10,000 profiles per
    arm by the last look: most experiments are declared, each in the right direction, and
    the final bounds cover the true difference in at least 1 - alpha of them."""
    for rate_0, rate_t, seed in ((0.10, 0.12, 21), (0.12, 0.10, 22)):
        sequence, lower, upper, _ = ever_significant(simulate(rate_0, rate_t, 250, 250, seed))
        truth = rate_t - rate_0
        detected = sequence.mean()
        wrong_way = ((lower > 0) & (truth < 0) | (upper < 0) & (truth > 0)).mean()
        covered = ((lower <= truth) & (truth <= upper)).mean()
        print(
            f"A/B {rate_0} -> {rate_t}: detected {detected:.4f}, wrong direction {wrong_way:.4f}, final bounds cover {covered:.4f}"
        )
        assert detected >= 0.8, detected
        assert wrong_way == 0.0, wrong_way
        assert covered >= DEFAULT_LEVEL - MARGIN, covered


def test_the_formulas_at_one_look() -> None:
    """One look worked by hand: 1,000 profiles per arm, 120 and 100 successes. The
    pseudo-outcome variance is N^2 (q_t/n_t^2 + q_0/n_0^2) - N d^2 over N - 1; the radius
    and the p-value follow the mixture boundary with rho^2 = 10^-2.8."""
    n = 2000.0
    d = 0.12 - 0.10
    variance = (n * n * (120 / 1000**2 + 100 / 1000**2) - n * d * d) / (n - 1)
    scale = n * DEFAULT_RHO_SQUARED + 1
    radius = math.sqrt(variance) * math.sqrt(2 * scale / (n * n * DEFAULT_RHO_SQUARED) * math.log(math.sqrt(scale) / ALPHA))
    p_value = min(1.0, math.sqrt(scale) * math.exp(-(n * n * DEFAULT_RHO_SQUARED * d * d) / (2 * variance * scale)))
    difference, got_radius, got_p = confidence_sequence(1000, 120, 120, 1000, 100, 100)
    assert math.isclose(float(difference), d) and math.isclose(float(got_radius), radius) and math.isclose(float(got_p), p_value)
    assert float(got_p) == 1.0  # 2 points on 1,000 profiles each: far from significant
    # The p-value (when below 1) is the level at which the look's bounds touch 0.
    difference, _, p_clear = confidence_sequence(5000, 800, 800, 5000, 500, 500)
    _, edge, _ = confidence_sequence(5000, 800, 800, 5000, 500, 500, alpha=float(p_clear))
    assert float(p_clear) < ALPHA and math.isclose(float(edge), float(difference), rel_tol=1e-9)
    # Nothing varies (no success in either arm): no bounds, p-value 1.
    _, none_radius, none_p = confidence_sequence(500, 0, 0, 500, 0, 0)
    assert math.isnan(float(none_radius)) and float(none_p) == 1.0
