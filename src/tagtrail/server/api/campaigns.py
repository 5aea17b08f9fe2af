"""/api/campaigns: create, list, show, change default UTMs and holdout, click statistics, lift."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query

from tagtrail.server.api.limits import LimitedRoute
from tagtrail.server.api.models import (
    CampaignCreate,
    CampaignPublic,
    CampaignsPublic,
    CampaignStats,
    CampaignUpdate,
)
from tagtrail.server.deps import Admin, State, utcnow
from tagtrail.service import campaigns as service
from tagtrail.service.lift import store_lift
from tagtrail.service.stats import campaign_stats

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], route_class=LimitedRoute)


@router.post("", status_code=201, response_model=CampaignPublic, summary="Create a campaign")
def create_campaign(body: CampaignCreate, state: State, who: Admin) -> dict[str, Any]:
    """A new campaign with default UTM values for its links (its name is their default
    `utm_campaign`). 409 when the name is taken; 422 when a default value has errors.
    Campaigns are also created on first use by a link's `campaign`."""
    found = state.write(
        service.create_campaign,
        who.workspace_id,
        body.name,
        default_utm=body.default_utm.given(),
        holdout=body.holdout,
        now=utcnow(),
    )
    return found.to_json()


@router.get("", response_model=CampaignsPublic, summary="List campaigns")
def list_campaigns(state: State, who: Admin) -> dict[str, Any]:
    """Every campaign of the workspace, by name, with how many links each has."""
    found = service.list_campaigns(state.engine, who.workspace_id)
    return {"data": [c.to_json() for c in found], "count": len(found)}


@router.get("/{name}", response_model=CampaignPublic, summary="Show a campaign")
def show_campaign(name: str, state: State, who: Admin) -> dict[str, Any]:
    """One campaign: its default UTMs and how many links it has."""
    return service.get_campaign(state.engine, who.workspace_id, name).to_json()


@router.patch("/{name}", response_model=CampaignPublic, summary="Change a campaign's defaults")
def update_campaign(name: str, body: CampaignUpdate, state: State, who: Admin) -> dict[str, Any]:
    """Replace the campaign's default UTMs (`{}` clears them) and its `holdout` (a percentage
    such as `"10%"`; `0` for none). Every link of the campaign redirects with the new defaults
    at once (links' own values and the destination's still win); a new holdout applies to the
    sends made after it."""
    defaults = None if body.default_utm is None else body.default_utm.given()
    found = state.write(
        service.update_campaign, who.workspace_id, name, default_utm=defaults, holdout=body.holdout
    )
    state.cache.invalidate()
    return found.to_json()


@router.get("/{name}/stats", response_model=CampaignStats, summary="Click statistics of a campaign")
def stats(name: str, state: State, who: Admin) -> dict[str, Any]:
    """Clicks over every link of the campaign: total, human, bot, unique humans, by recipient
    and by day."""
    return campaign_stats(state.engine, who.workspace_id, name)


@router.get("/{name}/lift", summary="Lift of a campaign over its holdout (DESIGN §10)")
async def lift(
    name: str,
    state: State,
    who: Admin,
    goal: Annotated[str, Query(min_length=1, max_length=200, description="the goal (event)")],
    window_days: Annotated[
        float, Query(gt=0, le=366, description="a conversion counts within this many days")
    ] = 7,
    level: Annotated[float, Query(ge=0.5, lt=1, description="confidence level")] = 0.95,
    holdout: Annotated[
        str | None, Query(max_length=20, description="the share meant to be held out (SRM)")
    ] = None,
) -> dict[str, Any]:
    """The DESIGN §10 document: the campaign's treated and held-out recipients, whether each
    converted on `goal` within the window after their first send, the lift with its intervals,
    the incremental conversions, the sample-ratio check, the minimum detectable effect, the
    conversions each attribution model credits to the campaign over the same recipients, and
    `matching` (how many recipients were matched to a collected user). 422 when the campaign
    has no held-out recipient or the goal does not exist; 404 for an unknown campaign."""
    report = await anyio.to_thread.run_sync(
        lambda: store_lift(
            state.engine,
            who.workspace_id,
            campaign=name,
            goal=goal,
            secret=state.secret,
            now=utcnow(),
            window=round(window_days * 86_400),
            level=level,
            holdout=holdout,
        )
    )
    return report.document
