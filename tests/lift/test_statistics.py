"""The §10 figures against independent formulas (SciPy/statsmodels building blocks) to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize

from tagtrail.errors import InvalidInput
from tagtrail.lift.statistics import Group, compute_lift, prob_better

CASES = [
    (Group(18_000, 1_080, 5_400.0, 27_000.0), Group(2_000, 100, 500.0, 2_500.0), 0.95, 0.1),
    (Group(900, 31, 62.0, 130.0), Group(100, 2, 4.0, 8.0), 0.9, 0.1),
    (Group(5_000, 400, 0.0, 0.0), Group(5_000, 350, 0.0, 0.0), 0.99, 0.5),
    (Group(120, 30), Group(80, 25), 0.95, 0.4),
]


def _closed_form_prob_better(t: Group, c: Group) -> float:
    """Evan Miller's exact sum for P(p_t > p_c) with integer Beta parameters."""
    a_t, b_t = 1 + t.converters, 1 + t.recipients - t.converters
    a_c, b_c = 1 + c.converters, 1 + c.recipients - c.converters
    i = np.arange(a_t, dtype=np.float64)
    terms = (
        special.betaln(a_c + i, b_c + b_t)
        - np.log(b_t + i)
        - special.betaln(1 + i, b_t)
        - special.betaln(a_c, b_c)
    )
    return float(np.exp(terms).sum())


@pytest.mark.parametrize(("t", "c", "level", "share"), CASES)
def test_point_figures_match_the_definitions(t: Group, c: Group, level: float, share: float):
    lift = compute_lift(t, c, level=level, expected_control_share=share)
    pt, pc = t.converters / t.recipients, c.converters / c.recipients
    z = stats.norm.isf((1 - level) / 2)
    assert lift.absolute == pytest.approx(pt - pc, abs=1e-12)
    assert lift.relative == pytest.approx((pt - pc) / pc, abs=1e-9)
    # Newcombe (1998) method 10 from the two Wilson intervals.
    lt, ut = proportion_confint(t.converters, t.recipients, alpha=1 - level, method="wilson")
    lc, uc = proportion_confint(c.converters, c.recipients, alpha=1 - level, method="wilson")
    low = (pt - pc) - math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2)
    high = (pt - pc) + math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)
    assert lift.absolute_ci == pytest.approx((low, high), abs=1e-9)
    # Katz: exp(log RR ± z·sqrt(1/x_t − 1/n_t + 1/x_c − 1/n_c)) − 1.
    se = math.sqrt(1 / t.converters - 1 / t.recipients + 1 / c.converters - 1 / c.recipients)
    rr = pt / pc
    assert lift.relative_ci == pytest.approx(
        (rr * math.exp(-z * se) - 1, rr * math.exp(z * se) - 1), abs=1e-9
    )
    # Pooled z-test.
    pool = (t.converters + c.converters) / (t.recipients + c.recipients)
    zstat = (pt - pc) / math.sqrt(pool * (1 - pool) * (1 / t.recipients + 1 / c.recipients))
    assert lift.p_value == pytest.approx(2 * stats.norm.sf(abs(zstat)), abs=1e-9)
    assert lift.prob_better == pytest.approx(_closed_form_prob_better(t, c), abs=1e-9)
    assert lift.incremental_conversions == pytest.approx((pt - pc) * t.recipients, abs=1e-9)
    assert lift.incremental_conversions_ci == pytest.approx(
        (low * t.recipients, high * t.recipients), abs=1e-6
    )
    # SRM: chi-square with one degree of freedom.
    n = t.recipients + c.recipients
    e_t, e_c = n * (1 - share), n * share
    chi2 = (t.recipients - e_t) ** 2 / e_t + (c.recipients - e_c) ** 2 / e_c
    assert lift.srm_p_value == pytest.approx(stats.chi2.sf(chi2, 1), abs=1e-9)
    assert lift.observed_control_share == pytest.approx(c.recipients / n, abs=1e-12)
    # MDE: a lift of mde_absolute over the control rate has exactly 80 % power.
    assert lift.mde_absolute is not None
    h = proportion_effectsize(pc + lift.mde_absolute, pc)
    power = NormalIndPower().power(
        h, nobs1=t.recipients, alpha=1 - level, ratio=c.recipients / t.recipients
    )
    assert power == pytest.approx(0.8, abs=1e-9)


def test_incremental_value_is_the_welch_interval_of_value_per_recipient():
    t, c = CASES[0][0], CASES[0][1]
    lift = compute_lift(t, c, level=0.95)
    assert t.value_squares is not None and c.value_squares is not None
    mt, mc = t.value / t.recipients, c.value / c.recipients
    vt = (t.value_squares - t.recipients * mt**2) / (t.recipients - 1)
    vc = (c.value_squares - c.recipients * mc**2) / (c.recipients - 1)
    half = stats.norm.isf(0.025) * math.sqrt(vt / t.recipients + vc / c.recipients)
    assert lift.incremental_value == pytest.approx((mt - mc) * t.recipients, abs=1e-9)
    assert lift.incremental_value_ci == pytest.approx(
        ((mt - mc - half) * t.recipients, (mt - mc + half) * t.recipients), abs=1e-6
    )
    assert compute_lift(CASES[3][0], CASES[3][1]).incremental_value_ci is None


@pytest.mark.parametrize(
    ("t", "c"),
    [(Group(1, 0), Group(1, 1)), (Group(50, 50), Group(40, 0)), (Group(3, 1), Group(7, 2))],
)
def test_prob_better_at_the_edges(t: Group, c: Group):
    assert prob_better(t, c) == pytest.approx(_closed_form_prob_better(t, c), abs=1e-9)


def test_a_campaign_without_a_holdout_is_refused_with_how_to_set_one():
    with pytest.raises(InvalidInput, match="lift needs a holdout") as caught:
        compute_lift(Group(100, 5), Group(0, 0))
    assert "--holdout" in (caught.value.hint or "")


def test_no_conversions_is_a_warning_and_undefined_figures_are_none():
    lift = compute_lift(Group(1_000, 0), Group(100, 0), expected_control_share=0.1)
    assert lift.p_value is None and lift.relative is None and lift.relative_ci is None
    assert any(w.startswith("no conversions") for w in lift.warnings)


def test_small_groups_warn_that_the_lift_is_below_the_mde():
    lift = compute_lift(Group(900, 50), Group(100, 5), expected_control_share=0.1)
    assert lift.mde_absolute is not None and lift.mde_absolute > abs(lift.absolute)
    assert any(w.startswith("too small to detect") for w in lift.warnings)
    big = compute_lift(Group(900_000, 54_000), Group(100_000, 5_000), expected_control_share=0.1)
    assert not any(w.startswith("too small") for w in big.warnings)
