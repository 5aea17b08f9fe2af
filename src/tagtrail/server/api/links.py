"""/api/links: create, list, show, update, disable, delete, stats and recipient URLs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from tagtrail.server.api.models import (
    LinkCreate,
    LinkPublic,
    LinksPublic,
    LinkUpdate,
    RecipientUrl,
    RecipientUrlRequest,
)
from tagtrail.server.deps import Admin, State, utcnow
from tagtrail.service import links as service
from tagtrail.service.recipients import recipient_url
from tagtrail.service.stats import link_stats

router = APIRouter(prefix="/api/links", tags=["links"])


@router.post("", status_code=201, response_model=LinkPublic)
def create_link(body: LinkCreate, state: State, who: Admin) -> dict[str, Any]:
    """Create a short link. Refused (422, with the builder's `issues`) when the destination
    and UTMs have errors."""
    utm = body.given()
    campaign = utm.pop("campaign", None)
    spec = service.LinkSpec(
        url=body.url,
        code=body.code,
        campaign=campaign,
        utm=utm,
        tags=body.tags,
        forward_query=body.forward_query,
        honeypot=body.honeypot,
        expires_at=body.expires_at,
    )
    link = service.create_link(
        state.engine, who.workspace_id, spec, origin=state.origin, now=utcnow()
    )
    state.cache.invalidate()
    return link.to_json()


@router.get("", response_model=LinksPublic)
def list_links(
    state: State,
    who: Admin,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    campaign: str | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    page, count = service.list_links(
        state.engine,
        who.workspace_id,
        origin=state.origin,
        limit=limit,
        offset=offset,
        campaign=campaign,
        tag=tag,
    )
    return {"data": [link.to_json() for link in page], "count": count}


@router.get("/{code}", response_model=LinkPublic)
def show_link(code: str, state: State, who: Admin) -> dict[str, Any]:
    return service.get_link(
        state.engine, code, origin=state.origin, workspace_id=who.workspace_id
    ).to_json()


@router.patch("/{code}", response_model=LinkPublic)
def update_link(code: str, body: LinkUpdate, state: State, who: Admin) -> dict[str, Any]:
    """Change a link. `campaign` moves it to another campaign ("" for none)."""
    utm = body.given()
    campaign = utm.pop("campaign", None)
    spec = service.LinkSpec(
        url=body.url,
        campaign=campaign,
        utm=utm,
        tags=body.tags,
        forward_query=body.forward_query,
        honeypot=body.honeypot,
        expires_at=body.expires_at,
    )
    link = service.update_link(
        state.engine, who.workspace_id, code, spec, origin=state.origin, now=utcnow()
    )
    state.cache.invalidate()
    return link.to_json()


@router.post("/{code}/disable", status_code=204)
def disable_link(code: str, state: State, who: Admin) -> Response:
    """Turn a link off: it then answers 410."""
    service.set_disabled(state.engine, who.workspace_id, code, True)
    state.cache.invalidate()
    return Response(status_code=204)


@router.post("/{code}/enable", status_code=204)
def enable_link(code: str, state: State, who: Admin) -> Response:
    service.set_disabled(state.engine, who.workspace_id, code, False)
    state.cache.invalidate()
    return Response(status_code=204)


@router.delete("/{code}", status_code=204)
def delete_link(code: str, state: State, who: Admin) -> Response:
    """Delete a link and its clicks: its code then answers 404."""
    service.delete_link(state.engine, who.workspace_id, code)
    state.cache.invalidate()
    return Response(status_code=204)


@router.get("/{code}/stats")
def stats(code: str, state: State, who: Admin) -> dict[str, Any]:
    """Clicks: total, human, bot, unique humans, by recipient and by day."""
    return link_stats(state.engine, code, workspace_id=who.workspace_id)


@router.post("/{code}/recipient-url", response_model=RecipientUrl)
def make_recipient_url(
    code: str, body: RecipientUrlRequest, state: State, who: Admin
) -> dict[str, str]:
    """The link for one recipient: `/{code}?r=<signed opaque token>`."""
    url = recipient_url(
        state.engine,
        who.workspace_id,
        code,
        body.recipient,
        secrets_=[state.secret],
        origin=state.origin,
        now=utcnow(),
    )
    return {"url": url}
