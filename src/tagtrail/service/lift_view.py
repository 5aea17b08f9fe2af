"""The campaign lift page's context (`/ui/campaigns/{name}/lift`), shared with `tagtrail report`:
the §10 document, both groups' cumulative conversion rate by day since send with its interval,
and the credit each attribution model gives the campaign beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from tagtrail import charts
from tagtrail.charts import Band
from tagtrail.errors import InvalidInput
from tagtrail.lift.document import DayRate, LiftReport, summary_line
from tagtrail.service.goals import list_goals
from tagtrail.service.lift import store_lift
from tagtrail.settings import Settings
from tagtrail.store.schema import campaigns, sends

TREATED, HELD_OUT = "#4e79a7", "#f28e2b"


def _band(name: str, rates: list[DayRate], color: str) -> Band:
    return Band(
        name,
        tuple(r.rate for r in rates),
        tuple(r.low for r in rates),
        tuple(r.high for r in rates),
        color,
    )


def lift_context(report: LiftReport) -> dict[str, Any]:
    """What the lift section draws: the document, its one-line summary and the chart."""
    doc = report.document
    labels = [str(r.day) for r in report.treatment_by_day]
    level = f"{doc['level'] * 100:g} %"
    chart = charts.rate_bands(
        f"Cumulative conversion rate by day since the first send ({level} intervals)",
        labels,
        [
            _band("treated", report.treatment_by_day, TREATED),
            _band("held out", report.control_by_day, HELD_OUT),
        ],
    )
    return {"lift": doc, "lift_summary": summary_line(doc), "lift_chart": chart}


def lift_page(
    engine: Engine,
    ws: int,
    settings: Settings,
    campaign: str,
    *,
    goal: str | None,
    window_days: float,
) -> dict[str, Any]:
    """The page's context: the goals to choose from, and the lift under the chosen one (the
    first goal by default); a campaign without a holdout gets the message saying how to set
    one instead of figures."""
    goals = [g.event for g in list_goals(engine, ws)]
    context: dict[str, Any] = {
        "campaign": campaign,
        "goals": goals,
        "goal": goal or (goals[0] if goals else ""),
        "window_days": window_days,
    }
    if not context["goal"]:
        context["lift_error"] = InvalidInput(
            "no goal yet", hint="add one with `tagtrail goals add NAME` or POST /api/goals"
        )
        return context
    try:
        report = store_lift(
            engine,
            ws,
            campaign=campaign,
            goal=context["goal"],
            secret=settings.secret(),
            now=datetime.now(UTC).replace(tzinfo=None),
            window=round(window_days * 86_400),
        )
    except InvalidInput as exc:
        context["lift_error"] = exc
        return context
    return {**context, **lift_context(report)}


def held_out_campaigns(engine: Engine, ws: int, *, limit: int = 10) -> list[str]:
    """The campaigns with at least one held-out send (the ones a lift can be measured for)."""
    query = (
        select(campaigns.c.name)
        .where(
            campaigns.c.workspace_id == ws,
            select(sends.c.id)
            .where(sends.c.campaign_id == campaigns.c.id, sends.c.held_out.is_(True))
            .exists(),
        )
        .order_by(campaigns.c.name)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [str(name) for name in conn.execute(query).scalars()]
