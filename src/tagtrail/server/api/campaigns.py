"""/api/campaigns: create, list, show, change default UTMs, and click statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

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
    """Replace the campaign's default UTMs (`{}` clears them). Every link of the campaign
    redirects with the new defaults at once (links' own values and the destination's still
    win)."""
    defaults = None if body.default_utm is None else body.default_utm.given()
    found = state.write(service.update_campaign, who.workspace_id, name, default_utm=defaults)
    state.cache.invalidate()
    return found.to_json()


@router.get("/{name}/stats", response_model=CampaignStats, summary="Click statistics of a campaign")
def stats(name: str, state: State, who: Admin) -> dict[str, Any]:
    """Clicks over every link of the campaign: total, human, bot, unique humans, by recipient
    and by day."""
    return campaign_stats(state.engine, who.workspace_id, name)
