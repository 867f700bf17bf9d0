"""Content experiments, computed a second way (docs/decisions.md, "Content experiments").

The independent reference of the experiment marts: from the reference's staged events
(tally.reference.stage, which never reads the models) it assigns profiles, counts their
successes within the outcome window, and computes the asymptotic confidence sequences, the
running intersection over the looks, the anytime-valid p-value and the verdict, with its own
code. `confidence_sequence` is vectorised (numpy), so the simulation test of A/A and A/B
experiments (tests/python/test_experiment_statistics.py) runs the same formulas on
thousands of experiments at once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tally.reference import Event

DEFAULT_LEVEL = 0.95
DEFAULT_RHO_SQUARED = 10**-2.8
DEFAULT_WINDOW_HOURS = 24
# The success metrics: (name, event type, only a human's events, unique per profile).
SUCCESS_METRICS = (
    ("unique_opens", "open", False, True),
    ("clicks", "click", False, False),
    ("unique_clicks", "click", False, True),
    ("human_unique_opens", "open", True, True),
    ("human_unique_clicks", "click", True, True),
)
UNIQUE_METRICS = {name for name, _, _, unique in SUCCESS_METRICS if unique}

_HEAD = ["experiment_id", "experiment_name", "campaign_id", "first_assigned_at", "treatment_id", "treatment_name"]
_HEAD += ["is_holdout", "is_baseline", "baseline_treatment_id", "success_metric"]
_FIGURES = ["profiles", "successes", "sum_of_squares", "conversion_rate", "baseline_profiles", "baseline_successes"]
_FIGURES += ["baseline_conversion_rate", "difference", "lift", "look_lower_bound", "look_upper_bound", "look_p_value"]
_FIGURES += ["lower_bound", "upper_bound", "p_value", "confidence", "confidence_level", "is_significant"]
# The columns of the marts, in their order.
EXPERIMENT_LOOK_COLUMNS = [*_HEAD, "look_at", "looks", *_FIGURES]
EXPERIMENT_RESULT_COLUMNS = [*_HEAD, "results_as_of", "looks"]
EXPERIMENT_RESULT_COLUMNS += [c for c in _FIGURES if c not in ("sum_of_squares", "look_p_value")]
EXPERIMENT_RESULT_COLUMNS += ["best_treatment_id", "is_best_treatment", "is_inconclusive", "verdict"]
EXPERIMENT_RESULT_COLUMNS += ["profiles_assigned", "profiles_seen_in_other_treatments"]


def confidence_sequence(
    n_t: np.ndarray | float,
    s_t: np.ndarray | float,
    q_t: np.ndarray | float,
    n_0: np.ndarray | float,
    s_0: np.ndarray | float,
    q_0: np.ndarray | float,
    alpha: float = 1 - DEFAULT_LEVEL,
    rho2: float = DEFAULT_RHO_SQUARED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The asymptotic confidence sequence for the difference of two means at one look
    (Waudby-Smith et al. 2024, the normal-mixture boundary of Howard et al. 2021), from the
    treatment's and the baseline's profiles n, sums s and sums of squares q. Returns the
    difference, the radius (nan where undefined) and the look's anytime-valid p-value."""
    n_t, s_t, q_t, n_0, s_0, q_0 = (np.asarray(x, dtype=float) for x in (n_t, s_t, q_t, n_0, s_0, q_0))
    with np.errstate(divide="ignore", invalid="ignore"):
        n = n_t + n_0
        difference = s_t / n_t - s_0 / n_0
        # sample variance of the pseudo-outcomes N*Y/n_t (treatment), -N*Y/n_0 (baseline)
        variance = (n * n * (q_t / (n_t * n_t) + q_0 / (n_0 * n_0)) - n * difference * difference) / (n - 1)
        defined = (n_t > 0) & (n_0 > 0) & (variance > 0)
        scale = n * rho2 + 1
        radius = np.where(
            defined,
            np.sqrt(np.where(defined, variance, 1.0)) * np.sqrt(2 * scale / (n * n * rho2) * np.log(np.sqrt(scale) / alpha)),
            np.nan,
        )
        exponent = -(n * n * rho2 * difference * difference) / (2 * np.where(defined, variance, 1.0) * scale)
        p_value = np.where(defined, np.minimum(1.0, np.sqrt(scale) * np.exp(np.maximum(-700.0, exponent))), 1.0)
    return difference, radius, p_value


def look_at(ts: datetime, as_of: datetime) -> datetime:
    """The look that first sees a change at `ts`: the end of its UTC hour (an instant on the
    hour is its own hour's end), or `as_of` when that comes first."""
    hour = ts.replace(minute=0, second=0, microsecond=0)
    end = ts if hour == ts else hour + timedelta(hours=1)
    return end if end < as_of else as_of


@dataclass
class Assignment:
    experiment_id: str
    experiment_name: str | None
    profile_id: str
    campaign_id: str
    treatment_id: str
    treatment_name: str | None
    is_holdout: bool
    assigned_at: datetime
    first_other_treatment_at: datetime | None = None


def assignments(events: Iterable[Event]) -> dict[tuple[str, str], Assignment]:
    """The first send (or holdout exclusion) of each profile in each experiment."""
    arms: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for e in events:
        if e.table != "message_feedback_events" or e.experiment_id is None:
            continue
        holdout = e.kind == "excluded" and e.reason == "holdout"
        if e.kind != "sent" and not holdout:
            continue
        treatment = (e.treatment_id or "holdout") if holdout else e.treatment_id
        if treatment is None:
            continue
        name = (e.treatment_name or "Holdout") if holdout else e.treatment_name
        arms[(e.experiment_id, e.profile_id)].append((e.event_ts, treatment, e.event_id, name, holdout, e))
    result = {}
    for key, rows in arms.items():
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        ts, treatment, _, name, holdout, first = rows[0]
        others = [r[0] for r in rows if r[1] != treatment]
        result[key] = Assignment(
            key[0], first.experiment_name, key[1], first.delivery[0], treatment, name, holdout, ts, min(others, default=None)
        )
    return result


def outcome_times(events: list[Event]) -> dict[tuple[str, str, str], list[datetime]]:
    """Per experiment x profile x success metric: the times of the events that raise the
    profile's value (a unique metric: its first), over every message of the experiment
    sent to the profile."""
    messages: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in events:
        if e.table == "message_feedback_events" and e.experiment_id is not None:
            messages[e.message_id].add((e.experiment_id, e.profile_id))
    times: dict[tuple[str, str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for e in events:
        if e.table != "message_tracking_events" or e.kind not in ("open", "click"):
            continue
        for experiment_id, profile_id in messages.get(e.message_id, ()):
            for name, kind, human, _ in SUCCESS_METRICS:
                if e.kind == kind and not (human and e.machine_rule is not None):
                    times[(experiment_id, profile_id, name)].append((e.event_ts, e.event_id))
    unique = {name for name, _, _, is_unique in SUCCESS_METRICS if is_unique}
    result = {}
    for key, rows in times.items():
        rows.sort()
        kept = rows[:1] if key[2] in unique else rows
        result[key] = [ts for ts, _ in kept]
    return result


def results(
    events: list[Event],
    as_of: datetime,
    window_hours: int = DEFAULT_WINDOW_HOURS,
    level: float = DEFAULT_LEVEL,
    rho2: float = DEFAULT_RHO_SQUARED,
    baselines: dict[str, str] | None = None,
) -> tuple[list[dict], list[dict]]:
    """experiment_results at `as_of` and experiment_result_looks up to it, as rows."""
    alpha = 1 - level
    window = timedelta(hours=window_hours)
    assigned = {k: a for k, a in assignments(events).items() if a.assigned_at <= as_of}
    outcomes = outcome_times(events)
    # per experiment x treatment x metric x look: new profiles, successes, squares
    changes: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    looks_of: dict[str, set[datetime]] = defaultdict(set)
    treatments: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
    for (experiment_id, profile_id), a in assigned.items():
        treatments[(experiment_id, a.treatment_id)].append(a)
        looks_of[experiment_id].add(as_of)
        matured = a.assigned_at + window
        if matured > as_of:
            continue
        look = look_at(matured, as_of)
        looks_of[experiment_id].add(look)
        for name, *_ in SUCCESS_METRICS:
            value = sum(1 for ts in outcomes.get((experiment_id, profile_id, name), ()) if ts <= matured)
            change = changes[(experiment_id, a.treatment_id, name, look)]
            change[0] += 1
            change[1] += value
            change[2] += value * value
    experiments: dict[str, dict] = {}
    for experiment_id in looks_of:
        rows = [a for (e, _), group in treatments.items() if e == experiment_id for a in group]
        contenders = sorted({a.treatment_id for a in rows if not a.is_holdout})
        baseline = (baselines or {}).get(experiment_id) or (contenders[0] if contenders else None)
        experiments[experiment_id] = {
            "experiment_name": min((a.experiment_name for a in rows if a.experiment_name is not None), default=None),
            "campaign_id": min(a.campaign_id for a in rows),
            "first_assigned_at": min(a.assigned_at for a in rows),
            "baseline": baseline,
        }
    look_rows = []
    for (experiment_id, treatment_id), group in sorted(treatments.items()):
        info = experiments[experiment_id]
        is_holdout = any(a.is_holdout for a in group)
        for name, *_ in SUCCESS_METRICS:
            totals = [0, 0, 0]
            base_totals = [0, 0, 0]
            running_lower, running_upper, running_p = -math.inf, math.inf, None
            for count, look in enumerate(sorted(looks_of[experiment_id]), start=1):
                totals = [
                    x + y for x, y in zip(totals, changes.get((experiment_id, treatment_id, name, look), [0, 0, 0]), strict=True)
                ]
                base_totals = [
                    x + y
                    for x, y in zip(
                        base_totals, changes.get((experiment_id, info["baseline"], name, look), [0, 0, 0]), strict=True
                    )
                ]
                is_baseline = treatment_id == info["baseline"]
                row = {
                    "experiment_id": experiment_id,
                    "experiment_name": info["experiment_name"],
                    "campaign_id": info["campaign_id"],
                    "first_assigned_at": info["first_assigned_at"],
                    "treatment_id": treatment_id,
                    "treatment_name": min((a.treatment_name for a in group if a.treatment_name is not None), default=None),
                    "is_holdout": is_holdout,
                    "is_baseline": is_baseline,
                    "baseline_treatment_id": info["baseline"],
                    "success_metric": name,
                    "look_at": look,
                    "looks": count,
                    "profiles": totals[0],
                    "successes": totals[1],
                    "sum_of_squares": totals[2],
                    "conversion_rate": totals[1] / totals[0] if totals[0] else None,
                    "baseline_profiles": base_totals[0] if info["baseline"] else None,
                    "baseline_successes": base_totals[1] if info["baseline"] else None,
                    "baseline_conversion_rate": base_totals[1] / base_totals[0] if base_totals[0] else None,
                }
                difference = lower = upper = p_look = None
                if not is_baseline and totals[0] and base_totals[0]:
                    d, r, p = confidence_sequence(*totals, *base_totals, alpha=alpha, rho2=rho2)
                    difference, p_look = float(d), float(p)
                    if not math.isnan(float(r)):
                        lower, upper = difference - float(r), difference + float(r)
                        if name in UNIQUE_METRICS:  # a difference of two shares lies in [-1, 1]
                            lower, upper = max(-1.0, lower), min(1.0, upper)
                if lower is not None:
                    running_lower, running_upper = max(running_lower, lower), min(running_upper, upper)
                if p_look is not None:
                    running_p = p_look if running_p is None else min(running_p, p_look)
                base_rate = row["baseline_conversion_rate"]
                row |= {
                    "difference": difference,
                    "lift": difference / base_rate if difference is not None and base_rate else None,
                    "look_lower_bound": lower,
                    "look_upper_bound": upper,
                    "look_p_value": p_look,
                    "lower_bound": None if running_lower == -math.inf else running_lower,
                    "upper_bound": None if running_upper == math.inf else running_upper,
                    "p_value": running_p,
                    "confidence_level": level,
                }
                row["confidence"] = None if row["p_value"] is None else 1 - row["p_value"]
                row["is_significant"] = bool(
                    (row["lower_bound"] is not None and row["lower_bound"] > 0)
                    or (row["upper_bound"] is not None and row["upper_bound"] < 0)
                )
                look_rows.append(row)
    latest = [r for r in look_rows if r["look_at"] == as_of]
    result_rows = []
    for r in latest:
        group = treatments[(r["experiment_id"], r["treatment_id"])]
        rivals = [x for x in latest if x["experiment_id"] == r["experiment_id"] and x["success_metric"] == r["success_metric"]]
        contenders = [x for x in rivals if not x["is_baseline"] and not x["is_holdout"]]
        winners = [x for x in contenders if x["lower_bound"] is not None and x["lower_bound"] > 0]
        if winners:
            best = min(winners, key=lambda x: (-(x["conversion_rate"] or 0.0), x["treatment_id"]))["treatment_id"]
            verdict = "treatment_wins"
        elif contenders and all(x["upper_bound"] is not None and x["upper_bound"] < 0 for x in contenders):
            best, verdict = r["baseline_treatment_id"], "baseline_wins"
        else:
            best, verdict = None, "no_contender" if not contenders else "inconclusive"
        out = {k: v for k, v in r.items() if k not in ("look_at", "sum_of_squares", "look_p_value")}
        out |= {
            "results_as_of": as_of,
            "best_treatment_id": best,
            "is_best_treatment": best is not None and r["treatment_id"] == best,
            "is_inconclusive": best is None,
            "verdict": verdict,
            "profiles_assigned": len(group),
            "profiles_seen_in_other_treatments": sum(
                1 for a in group if a.first_other_treatment_at is not None and a.first_other_treatment_at <= as_of
            ),
        }
        result_rows.append(out)
    return result_rows, look_rows
