"""/api/workspace: default UTMs, identification, and domains excluded from click tracking."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tagtrail.server.api.limits import LimitedRoute
from tagtrail.server.api.models import WorkspacePublic, WorkspaceUpdate
from tagtrail.server.deps import Admin, State
from tagtrail.service import workspace as service

router = APIRouter(prefix="/api/workspace", tags=["workspace"], route_class=LimitedRoute)


@router.get("", response_model=WorkspacePublic, summary="Show the workspace's settings")
def show_workspace(state: State, who: Admin) -> dict[str, Any]:
    """The workspace's default UTMs, whether recipient clicks identify visitors, and the
    domains excluded from click tracking."""
    return service.get_workspace(state.engine, who.workspace_id).to_json()


@router.patch("", response_model=WorkspacePublic, summary="Change the workspace's settings")
def update_workspace(body: WorkspaceUpdate, state: State, who: Admin) -> dict[str, Any]:
    """Change what the body gives; each given field replaces the old value.

    - `default_utm`: the lowest layer of UTM defaults (under campaign and link values and the
      destination's own), e.g. `{"source": "instasent", "medium": "sms"}`.
    - `identify`: hand the landing page a signed identity hint on recipient clicks.
    - `excluded_domains`: hosts (with their subdomains) that never get a short link, such as
      universal-link domains; creating a link to one answers `"tracked": false`.
    - `global_holdout`: the global control group, a percentage of recipients (`"5%"` or `5`)
      held out of every campaign (DESIGN §10); `0` for none.

    Links redirect with the new settings at once."""
    found = state.write(
        service.update_workspace,
        who.workspace_id,
        default_utm=None if body.default_utm is None else body.default_utm.given(),
        identify=body.identify,
        excluded_domains=body.excluded_domains,
        global_holdout=body.global_holdout,
    )
    state.cache.invalidate()
    return found.to_json()
