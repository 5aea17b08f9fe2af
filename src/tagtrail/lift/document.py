"""The §10 lift document, and the cumulative rates by day since send that the charts draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statsmodels.stats.proportion import proportion_confint

from tagtrail.lift.outcome import Outcome
from tagtrail.lift.statistics import Group, Lift, compute_lift


@dataclass(frozen=True, slots=True)
class DayRate:
    """One group's cumulative conversion rate after `day` whole days, with its Wilson interval."""

    day: int
    rate: float
    low: float
    high: float


def cumulative_rates(converters: list[int], group: Group, level: float) -> list[DayRate]:
    out: list[DayRate] = []
    total = 0
    for day, count in enumerate(converters, start=1):
        total += count
        if group.recipients == 0:
            out.append(DayRate(day, 0.0, 0.0, 0.0))
            continue
        low, high = proportion_confint(total, group.recipients, alpha=1 - level, method="wilson")
        out.append(DayRate(day, total / group.recipients, float(low), float(high)))
    return out


@dataclass(frozen=True, slots=True)
class LiftReport:
    """The document and what the dashboard draws beside it."""

    document: dict[str, Any]
    treatment_by_day: list[DayRate]
    control_by_day: list[DayRate]


def _outcome_warnings(outcome: Outcome, window: int, data_end: datetime) -> list[str]:
    out: list[str] = []
    days = window / 86_400
    if outcome.pending and outcome.pending == outcome.recipients and outcome.first_send:
        covered = (data_end - outcome.first_send).total_seconds() / 86_400
        out.append(
            f"window longer than the data: the {days:g}-day window has not elapsed for any "
            f"recipient (the data ends {max(covered, 0.0):.1f} days after the first send); "
            "use a shorter --window or wait"
        )
    elif outcome.pending:
        out.append(
            f"window not elapsed: {outcome.pending} of {outcome.recipients} recipients were sent "
            f"less than {days:g} days before the data ends; their outcome may still change"
        )
    if outcome.mixed:
        out.append(
            f"{outcome.mixed} recipient(s) have both held-out and treated sends; each counts in "
            "the group of their first send (was the holdout changed during the campaign?)"
        )
    return out


def lift_report(
    *,
    campaign: str,
    goal: str | None,
    window: int,
    level: float,
    outcome: Outcome,
    expected_control_share: float | None,
    attributed: dict[str, float],
    data_end: datetime,
    extra: dict[str, Any] | None = None,
) -> LiftReport:
    """`{"campaign", "goal", "window_days", "level", "treatment", "control", "lift",
    "incremental", "srm", "mde_absolute", "attributed", "warnings"}` (DESIGN §10)."""
    lift: Lift = compute_lift(
        outcome.treatment,
        outcome.control,
        level=level,
        expected_control_share=expected_control_share,
    )
    figures = lift.as_dict()
    warnings = _outcome_warnings(outcome, window, data_end) + figures.pop("warnings")
    if expected_control_share is None:
        warnings.append(
            "no SRM check: the share meant to be held out is unknown (give --holdout PCT)"
        )
    document: dict[str, Any] = {
        "campaign": campaign,
        "goal": goal,
        "window_days": window / 86_400,
        **figures,
        "attributed": attributed,
        **(extra or {}),
        "warnings": warnings,
    }
    return LiftReport(
        document,
        cumulative_rates(outcome.converters_by_day["treatment"], outcome.treatment, level),
        cumulative_rates(outcome.converters_by_day["control"], outcome.control, level),
    )


#: The model named in the one-line summary (the credit most tools show by default).
SUMMARY_MODEL = "last_touch"


def summary_line(document: dict[str, Any], model: str = SUMMARY_MODEL) -> str:
    """ "attributed 120 conversions; incremental 34 (95 % CI 12–56)" for one document."""
    attributed = float(document["attributed"].get(model, 0.0))
    incremental = document["incremental"]
    low, high = incremental["conversions_ci"]
    span = f"{low:,.0f}–{high:,.0f}" if low >= 0 else f"{low:,.0f} to {high:,.0f}"
    return (
        f"attributed {attributed:,.0f} conversions ({model}); incremental "
        f"{incremental['conversions']:,.0f} ({document['level'] * 100:g} % CI "
        f"{span})"
    )
