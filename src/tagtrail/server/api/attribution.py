"""/api/attribution: every model on the workspace's collected journeys (DESIGN §7 JSON)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query

from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.registry import parse_models
from tagtrail.errors import InvalidInput
from tagtrail.server.deps import Admin, State
from tagtrail.service.attribution import AttributionQuery, store_attribution

router = APIRouter(prefix="/api", tags=["attribution"])
_BY = ("channel", "source", "medium", "campaign", "content")


@router.get("/attribution", summary="Attribute the collected conversions under every model")
async def attribution(
    state: State,
    who: Admin,
    model: Annotated[str, Query(description="all, or model names separated by commas")] = "all",
    by: Annotated[str, Query(description="channel, source, medium, campaign or content")] = (
        "channel"
    ),
    start: Annotated[
        date | None, Query(alias="from", description="first day (UTC) of the conversions")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last day (UTC) of the conversions")
    ] = None,
    goal: Annotated[
        str | None,
        Query(description="the goal attributed (default: the goal with revenue)"),
    ] = None,
    lookback_days: Annotated[int, Query(ge=1, le=365, description="R3 lookback in days")] = 30,
) -> dict[str, Any]:
    """The DESIGN §7 document (`{"meta", "models"}`) for one goal of the workspace's collected
    journeys: touchpoints and that goal's conversions, stitched across devices, run through the
    same engine and models as `tagtrail attribute --events`. `meta.goal` names the goal,
    `meta.goals` lists every goal; an unknown goal is a 422 naming them."""
    if by not in _BY:
        raise InvalidInput(f"by must be one of {', '.join(_BY)}, not {by!r}")
    names = parse_models(model)
    rules = PathRules(lookback=lookback_days * 86_400)
    query = AttributionQuery(names, rules, by, start, end, goal)
    timeout = timedelta(minutes=state.settings.session_timeout_minutes)
    return await anyio.to_thread.run_sync(
        lambda: store_attribution(state.engine, who.workspace_id, query, session_timeout=timeout)
    )
