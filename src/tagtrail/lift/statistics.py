"""The lift figures of DESIGN §10 from two groups' counts: pure, SciPy and statsmodels do the maths.

Every figure is defined exactly (docs/lift.md), so a script can check it:

- rate = converters / recipients; absolute = rate_t − rate_c; relative = absolute / rate_c;
- `absolute_ci`: Newcombe's hybrid score interval (Wilson intervals of each rate combined;
  statsmodels `confint_proportions_2indep(method="newcomb")`);
- `relative_ci`: the Katz log-ratio interval of rate_t / rate_c, minus 1 (statsmodels
  `method="log"`); undefined (None) while either group has no converter;
- `p_value`: two-sided pooled two-proportion z-test (statsmodels `proportions_ztest`);
- `prob_better`: P(p_t > p_c) under independent Beta(1 + x, 1 + n − x) posteriors, the
  integral of pdf_t · cdf_c over [0, 1] by adaptive quadrature (no sampling);
- incremental conversions = absolute × treatment recipients, its interval `absolute_ci` × the same;
- incremental value = (value_t / n_t − value_c / n_c) × n_t, the extra value per treated recipient
  times the treated recipients; its interval is the normal (Welch) interval of that difference of
  means per recipient (from the sums of values and of squared values), scaled the same way;
- SRM: chi-square goodness of fit of (treatment, control) against the expected control share,
  a mismatch when p < 0.001;
- `mde_absolute`: the smallest lift detectable with 80 % power at the same level with these
  group sizes (statsmodels `NormalIndPower` solves Cohen's h, turned into an absolute difference
  at the control rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy import integrate, optimize, special, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from tagtrail.errors import InvalidInput

#: SRM fires below this p-value (a 1-in-1000 false alarm rate).
SRM_THRESHOLD = 0.001
#: The power the minimum detectable effect is computed at.
POWER = 0.8
#: Below this many converters in a group the intervals rest on few events (a warning).
FEW_CONVERTERS = 10
#: Cohen's h cannot exceed π (rates 0 and 1).
_MAX_H = math.pi


@dataclass(frozen=True, slots=True)
class Group:
    """One arm: its recipients, how many converted, the value of their conversions and, when
    known, the sum over recipients of (their value)² for the value interval."""

    recipients: int
    converters: int
    value: float = 0.0
    value_squares: float | None = None

    @property
    def rate(self) -> float:
        return self.converters / self.recipients if self.recipients else 0.0

    def as_dict(self) -> dict[str, Any]:
        n, x = self.recipients, self.converters
        return {"recipients": n, "converters": x, "rate": self.rate, "value": self.value}


@dataclass(frozen=True, slots=True)
class Lift:
    """The statistical part of the §10 document (the caller adds campaign, goal, attributed)."""

    treatment: Group
    control: Group
    level: float
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float | None
    relative_ci: tuple[float, float] | None
    p_value: float | None
    prob_better: float
    incremental_conversions: float
    incremental_conversions_ci: tuple[float, float]
    incremental_value: float
    incremental_value_ci: tuple[float, float] | None
    expected_control_share: float | None
    observed_control_share: float
    srm_p_value: float | None
    srm_mismatch: bool
    mde_absolute: float | None
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "treatment": self.treatment.as_dict(),
            "control": self.control.as_dict(),
            "lift": {
                "absolute": self.absolute,
                "absolute_ci": list(self.absolute_ci),
                "relative": self.relative,
                "relative_ci": None if self.relative_ci is None else list(self.relative_ci),
                "p_value": self.p_value,
                "prob_better": self.prob_better,
            },
            "incremental": {
                "conversions": self.incremental_conversions,
                "conversions_ci": list(self.incremental_conversions_ci),
                "value": self.incremental_value,
                "value_ci": (
                    None if self.incremental_value_ci is None else list(self.incremental_value_ci)
                ),
            },
            "srm": {
                "expected_control_share": self.expected_control_share,
                "observed_control_share": self.observed_control_share,
                "p_value": self.srm_p_value,
                "mismatch": self.srm_mismatch,
            },
            "mde_absolute": self.mde_absolute,
            "warnings": list(self.warnings),
        }


def _check(treatment: Group, control: Group, level: float) -> None:
    if not 0.5 <= level < 1.0:
        raise InvalidInput(f"level {level} is out of range", hint="give a level such as 0.95")
    for name, g in (("treatment", treatment), ("control", control)):
        if g.recipients < 0 or not 0 <= g.converters <= g.recipients:
            raise InvalidInput(
                f"{name}: {g.converters} converters of {g.recipients} recipients",
                hint="converters must be between 0 and the recipients",
            )
    if control.recipients == 0:
        raise InvalidInput(
            "lift needs a holdout: no recipient of this campaign was held out",
            hint="set a holdout (tagtrail messages --holdout 10%, the campaign's holdout "
            "setting or the workspace's global_holdout) and send again",
        )
    if treatment.recipients == 0:
        raise InvalidInput(
            "lift needs treated recipients: every recipient of this campaign was held out",
            hint="lower the holdout below 100%",
        )


def _interval(t: Group, c: Group, level: float, method: str, compare: str) -> tuple[float, float]:
    low, high = confint_proportions_2indep(
        t.converters, t.recipients, c.converters, c.recipients,
        method=method, compare=compare, alpha=1 - level,
    )  # fmt: skip
    return float(low), float(high)


def newcombe_interval(t: Group, c: Group, level: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval for rate_t − rate_c."""
    return _interval(t, c, level, "newcomb", "diff")


def katz_interval(t: Group, c: Group, level: float) -> tuple[float, float] | None:
    """The Katz log interval of rate_t / rate_c, minus 1 (None while a group has no converter)."""
    if t.converters == 0 or c.converters == 0:
        return None
    low, high = _interval(t, c, level, "log", "ratio")
    return low - 1.0, high - 1.0


def pooled_z_p_value(t: Group, c: Group) -> float | None:
    """Two-sided pooled two-proportion z-test (None when nobody or everybody converted)."""
    pooled = (t.converters + c.converters) / (t.recipients + c.recipients)
    if pooled in (0.0, 1.0):
        return None
    _, p = proportions_ztest([t.converters, c.converters], [t.recipients, c.recipients])
    return float(p)


def prob_better(t: Group, c: Group) -> float:
    """P(p_t > p_c) = ∫ pdf_t(x) · cdf_c(x) dx with Beta(1 + x, 1 + n − x) posteriors."""
    a_t, b_t = 1 + t.converters, 1 + t.recipients - t.converters
    a_c, b_c = 1 + c.converters, 1 + c.recipients - c.converters
    post_t = stats.beta(a_t, b_t)
    # The integrand is zero (to double precision) outside the treatment posterior's bulk;
    # integrating over that bulk keeps the quadrature on the peak of a narrow posterior.
    low = float(post_t.ppf(1e-15))
    high = float(post_t.isf(1e-15))
    inner = [m for m in (a_t / (a_t + b_t), a_c / (a_c + b_c)) if low < m < high]
    log_norm = float(special.betaln(a_t, b_t))

    def integrand(x: float) -> float:
        # Beta(a_t, b_t)'s density (scipy.stats.beta.pdf without its per-call argument
        # checks, which made the quadrature 10× slower) times Beta(a_c, b_c)'s cdf.
        log_pdf = (a_t - 1) * math.log(x) + (b_t - 1) * math.log1p(-x) - log_norm
        return math.exp(log_pdf) * float(special.betainc(a_c, b_c, x))

    value, _ = integrate.quad(
        integrand,
        low,
        high,
        points=inner or None,
        limit=500,
        epsabs=1e-13,
        epsrel=1e-12,
    )
    return min(1.0, max(0.0, float(value)))


def value_interval(t: Group, c: Group, level: float) -> tuple[float, float] | None:
    """Welch normal interval of (value_t / n_t − value_c / n_c) × n_t (None without squares)."""
    if t.value_squares is None or c.value_squares is None:
        return None
    if t.recipients < 2 or c.recipients < 2:
        return None

    def var(g: Group, squares: float) -> float:
        mean = g.value / g.recipients
        return max(0.0, (squares - g.recipients * mean * mean) / (g.recipients - 1))

    se = math.sqrt(var(t, t.value_squares) / t.recipients + var(c, c.value_squares) / c.recipients)
    z = float(stats.norm.isf((1 - level) / 2))
    diff = t.value / t.recipients - c.value / c.recipients
    return (diff - z * se) * t.recipients, (diff + z * se) * t.recipients


def srm_test(t: Group, c: Group, expected_control_share: float) -> float:
    """p-value of the chi-square goodness of fit of the group sizes to the expected share."""
    total = t.recipients + c.recipients
    expected = [total * (1 - expected_control_share), total * expected_control_share]
    _, p = stats.chisquare([t.recipients, c.recipients], f_exp=expected)
    return float(p)


def mde_absolute(t: Group, c: Group, level: float) -> float | None:
    """The smallest absolute lift over the control rate detectable with 80 % power."""
    ratio = c.recipients / t.recipients
    power = NormalIndPower().power

    def shortfall(h: float) -> float:
        return float(power(h, nobs1=t.recipients, alpha=1 - level, ratio=ratio)) - POWER

    # statsmodels' solve_power stops at ~1e-5 of power; brentq on its power function is exact.
    if shortfall(_MAX_H) < 0:
        return None
    h = float(optimize.brentq(shortfall, 1e-12, _MAX_H, xtol=1e-15, rtol=1e-15))
    angle = math.asin(math.sqrt(c.rate)) + h / 2
    return (1.0 if angle >= math.pi / 2 else math.sin(angle) ** 2) - c.rate


def _warnings(lift: dict[str, Any], t: Group, c: Group) -> list[str]:
    out: list[str] = []
    if t.converters + c.converters == 0:
        out.append("no conversions: no recipient of either group converted within the window")
    mde = lift["mde_absolute"]
    if mde is not None and abs(lift["absolute"]) < mde:
        out.append(
            f"too small to detect this lift: with {t.recipients} treated and {c.recipients} "
            f"held-out recipients the smallest lift detectable at 80% power is "
            f"{mde * 100:.2f} points; the observed lift is {lift['absolute'] * 100:.2f} points"
        )
    for name, g in (("treatment", t), ("control", c)):
        if 0 < t.converters + c.converters and g.converters < FEW_CONVERTERS:
            out.append(
                f"few conversions: the {name} group has {g.converters} converter(s); "
                "the intervals rest on few events"
            )
    if lift["srm_mismatch"]:
        out.append(
            f"sample ratio mismatch: {lift['observed_control_share']:.4f} of the recipients "
            f"were held out where {lift['expected_control_share']:.4f} was expected "
            f"(chi-square p = {lift['srm_p_value']:.2g}); the assignment or the recording of "
            "sends is broken, so the lift is not trustworthy"
        )
    return out


def compute_lift(
    treatment: Group,
    control: Group,
    *,
    level: float = 0.95,
    expected_control_share: float | None = None,
) -> Lift:
    """Every §10 figure from the two groups (raises `InvalidInput` without a control group)."""
    _check(treatment, control, level)
    t, c = treatment, control
    absolute = t.rate - c.rate
    ci = newcombe_interval(t, c, level)
    srm_p = None if expected_control_share is None else srm_test(t, c, expected_control_share)
    value_ci = value_interval(t, c, level)
    figures: dict[str, Any] = {
        "absolute": absolute,
        "mde_absolute": mde_absolute(t, c, level),
        "observed_control_share": c.recipients / (t.recipients + c.recipients),
        "expected_control_share": expected_control_share,
        "srm_p_value": srm_p,
        "srm_mismatch": srm_p is not None and srm_p < SRM_THRESHOLD,
    }
    return Lift(
        treatment=t,
        control=c,
        level=level,
        absolute_ci=ci,
        relative=absolute / c.rate if c.rate > 0 else None,
        relative_ci=katz_interval(t, c, level),
        p_value=pooled_z_p_value(t, c),
        prob_better=prob_better(t, c),
        incremental_conversions=absolute * t.recipients,
        incremental_conversions_ci=(ci[0] * t.recipients, ci[1] * t.recipients),
        incremental_value=(t.value / t.recipients - c.value / c.recipients) * t.recipients,
        incremental_value_ci=value_ci,
        warnings=tuple(_warnings(figures, t, c)),
        **figures,
    )
