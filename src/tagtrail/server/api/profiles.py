"""/api/profiles, /api/goals and /api/journeys: what collection made of the events (admin key)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from tagtrail.server.api.limits import LimitedRoute
from tagtrail.server.deps import Admin, State, utcnow
from tagtrail.service.collected import user_profile
from tagtrail.service.goals import add_goal, goal_json, list_goals
from tagtrail.service.journeys import journeys_csv

router = APIRouter(prefix="/api", tags=["collect"], route_class=LimitedRoute)


class GoalIn(BaseModel):
    event: str = Field(min_length=1, max_length=200, description="The track event's name.")
    revenue: str | None = Field(
        None, max_length=200, description="The property holding the conversion's value."
    )


@router.get("/profiles/{user_id}", summary="Show a user's first- and last-touch profile")
async def show_profile(user_id: str, state: State, who: Admin) -> dict[str, Any]:
    """The user's identity (every device and alias merged), its `initial_*` touch (first by
    event time) and `last_*` touch (latest non-direct), the ids merged into it, its conversions
    and any refused merge. 404 for a user id never seen."""
    settings = state.settings
    return await anyio.to_thread.run_sync(
        lambda: user_profile(state.engine, who.workspace_id, user_id, **settings.sessions)
    )


@router.get("/goals", summary="List the conversion goals")
def show_goals(state: State, who: Admin) -> dict[str, Any]:
    """Every goal: a track event name and the property that holds its value (or null)."""
    return {"data": [goal_json(g) for g in list_goals(state.engine, who.workspace_id)]}


@router.post("/goals", summary="Add a conversion goal", status_code=201)
def create_goal(body: GoalIn, state: State, who: Admin) -> dict[str, Any]:
    """Track events named `event` become conversions, valued by the `revenue` property when
    given. Adding a goal that exists changes its revenue property."""
    goal = state.write(add_goal, who.workspace_id, body.event, body.revenue, now=utcnow())
    return goal_json(goal)


@router.get(
    "/journeys",
    summary="Export the journeys (DESIGN §7 CSV)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_journeys(state: State, who: Admin) -> Response:
    """Every identity's arrivals and conversions as `user_id,timestamp,type,channel,source,
    medium,campaign,value` rows, what `tagtrail attribute --events` reads."""
    settings = state.settings
    text = await anyio.to_thread.run_sync(
        lambda: journeys_csv(state.engine, who.workspace_id, **settings.sessions)
    )
    return Response(text, media_type="text/csv; charset=utf-8")
