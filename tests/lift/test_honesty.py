"""Honesty of the lift figures over many simulated campaigns (DESIGN §10, issue 19).

20,000 recipients, each held out with probability 10 %; the treated convert at 6 %, the held out
at 5 % (or both at 5 % for the no-effect runs). numpy draws every run's counts at once; the
figures come from the same functions `compute_lift` uses.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from tagtrail.lift.statistics import (
    Group,
    compute_lift,
    katz_interval,
    newcombe_interval,
    pooled_z_p_value,
    srm_test,
)

RUNS = 1_000
RECIPIENTS = 20_000
SHARE = 0.10
BASE, TRUE = 0.05, 0.06


def _draw(seed: int, p_t: float, p_c: float, share: float = SHARE) -> list[tuple[Group, Group]]:
    rng = np.random.default_rng(seed)
    n_c = rng.binomial(RECIPIENTS, share, RUNS)
    n_t = RECIPIENTS - n_c
    x_t = rng.binomial(n_t, p_t)
    x_c = rng.binomial(n_c, p_c)
    return [
        (Group(int(a), int(b)), Group(int(c), int(d)))
        for a, b, c, d in zip(n_t, x_t, n_c, x_c, strict=True)
    ]


def test_the_95_percent_intervals_cover_the_true_lift_in_about_95_percent_of_runs():
    runs = _draw(19, TRUE, BASE)
    absolute = [newcombe_interval(t, c, 0.95) for t, c in runs]
    relative = [katz_interval(t, c, 0.95) for t, c in runs]
    covered_abs = np.mean([lo <= TRUE - BASE <= hi for lo, hi in absolute])
    covered_rel = np.mean([r is not None and r[0] <= TRUE / BASE - 1 <= r[1] for r in relative])
    # 1,000 runs: a binomial standard error of 0.7 points around 95 %.
    assert 0.93 <= covered_abs <= 0.97, covered_abs
    assert 0.93 <= covered_rel <= 0.97, covered_rel
    # The incremental conversions' interval is the same interval scaled: the same coverage.
    t, c = runs[0]
    lift = compute_lift(t, c, expected_control_share=SHARE)
    truth = (TRUE - BASE) * t.recipients
    lo, hi = lift.incremental_conversions_ci
    assert (lo <= truth <= hi) == (absolute[0][0] <= TRUE - BASE <= absolute[0][1])


def test_with_no_effect_the_p_value_is_uniform():
    runs = _draw(20, BASE, BASE)
    p = np.array([pooled_z_p_value(t, c) for t, c in runs], dtype=np.float64)
    below = float(np.mean(p < 0.05))
    assert 0.03 <= below <= 0.07, below
    # Uniform on [0, 1] as a whole, not only at 0.05 (the counts are discrete: a loose bound).
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_with_a_true_effect_the_test_has_the_power_the_mde_promises():
    # At these sizes the MDE at 80 % power is ~1.5 points; a true lift of exactly the MDE is
    # detected (p < 0.05) in about 80 % of runs.
    t, c = Group(18_000, 900), Group(2_000, 100)
    mde = compute_lift(t, c).mde_absolute
    assert mde is not None
    runs = _draw(21, BASE + mde, BASE)
    p = np.array([pooled_z_p_value(t, c) for t, c in runs], dtype=np.float64)
    assert 0.76 <= float(np.mean(p < 0.05)) <= 0.84


def test_an_unbalanced_assignment_trips_srm_and_a_balanced_one_does_not():
    balanced = _draw(22, BASE, BASE)
    unbalanced = _draw(23, BASE, BASE, share=0.12)  # 12 % held out where 10 % was meant
    false_alarms = np.mean([srm_test(t, c, SHARE) < 0.001 for t, c in balanced])
    detected = np.mean([srm_test(t, c, SHARE) < 0.001 for t, c in unbalanced])
    assert false_alarms <= 0.005
    assert detected >= 0.99
    t, c = unbalanced[0]
    lift = compute_lift(t, c, expected_control_share=SHARE)
    assert lift.srm_mismatch
    assert any(w.startswith("sample ratio mismatch") for w in lift.warnings)
