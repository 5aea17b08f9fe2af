"""Conversion goals: track events named like a goal convert, valued by an optional property."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from tagtrail.collect import Goal
from tagtrail.errors import InvalidInput
from tagtrail.store.schema import goals


def goal_json(goal: Goal) -> dict[str, Any]:
    return {"event": goal.event, "revenue": goal.revenue}


def list_goals(engine: Engine, workspace_id: int) -> list[Goal]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(goals.c.event, goals.c.revenue)
            .where(goals.c.workspace_id == workspace_id)
            .order_by(goals.c.id)
        ).all()
    return [Goal(str(r.event), r.revenue) for r in rows]


def add_goal(
    engine: Engine, workspace_id: int, event: str, revenue: str | None, *, now: datetime
) -> Goal:
    """Add the goal `event` (or change its revenue property when it exists)."""
    name = event.strip()
    prop = (revenue or "").strip() or None
    if not name or len(name) > 200:
        raise InvalidInput(
            "a goal is the name of a track event (1-200 characters)",
            hint="e.g. `tagtrail goals add 'Order Completed' --revenue revenue`",
        )
    if prop is not None and len(prop) > 200:
        raise InvalidInput("the revenue property name is longer than 200 characters")
    with engine.begin() as conn:
        found = conn.execute(
            select(goals.c.id).where(goals.c.workspace_id == workspace_id, goals.c.event == name)
        ).first()
        if found is None:
            conn.execute(
                insert(goals).values(
                    workspace_id=workspace_id, event=name, revenue=prop, created_at=now
                )
            )
        else:
            conn.execute(update(goals).where(goals.c.id == found.id).values(revenue=prop))
    return Goal(name, prop)
