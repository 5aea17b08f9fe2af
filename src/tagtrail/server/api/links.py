"""/api/links: create, import, list, show, update, disable, delete, stats, recipient URLs
and QR codes."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from tagtrail.server.api.limits import LimitedRoute, MiB, body_limit, read_csv
from tagtrail.server.api.models import (
    LinkCreate,
    LinkCreated,
    LinkPublic,
    LinksImported,
    LinksPublic,
    LinkUntracked,
    LinkUpdate,
    RecipientUrl,
    RecipientUrlRequest,
)
from tagtrail.server.deps import Admin, State, utcnow
from tagtrail.server.state import ServerState
from tagtrail.service import imports
from tagtrail.service import links as link_service
from tagtrail.service.recipients import recipient_url
from tagtrail.service.stats import link_stats
from tagtrail.service.workspace import refuse_excluded, untracked_link

router = APIRouter(prefix="/api/links", tags=["links"], route_class=LimitedRoute)
_IMPORT_EXAMPLE = (
    "url,code,campaign,source,medium,content,tags\n"
    "https://example.com/pricing,spring,spring-sale,newsletter,email,hero,promo|q2\n"
)
Scale = Annotated[int, Query(ge=1, le=40, description="Pixels (PNG) or units (SVG) per module.")]
_QR_CACHE = {"Cache-Control": "public, max-age=3600"}


@router.post(
    "",
    status_code=201,
    response_model=LinkCreated | LinkUntracked,
    response_model_exclude_unset=True,
    summary="Create a short link",
    responses={200: {"model": LinkUntracked, "description": "Destination on an excluded domain"}},
)
def create_link(body: LinkCreate, state: State, who: Admin, response: Response) -> dict[str, Any]:
    """Create a short link (201). Refused (422, with the builder's `issues`) when the destination
    and UTMs have errors; 409 when the custom `code` is taken. A link whose `expires_at` is
    already past, or whose tracked URL another link of the workspace already has, is made, and
    its answer carries `warnings` (`W_EXPIRES_IN_PAST`, `W_DUPLICATE_LINK` with those `links`).

    A destination on one of the workspace's `excluded_domains` (or a subdomain of one) gets no
    short link: the answer is 200 with `"tracked": false` and `short_url` set to the tracked
    destination URL itself, with the same default UTMs applied. Nothing is stored."""
    utm = body.given()
    campaign = utm.pop("campaign", None)
    untracked = untracked_link(state.engine, who.workspace_id, body.url, campaign=campaign, utm=utm)
    if untracked is not None:
        response.status_code = 200
        return untracked
    spec = link_service.LinkSpec(
        url=body.url,
        code=body.code,
        campaign=campaign,
        utm=utm,
        tags=body.tags,
        forward_query=body.forward_query,
        honeypot=body.honeypot,
        expires_at=body.expires_at,
    )
    link = state.write(
        link_service.create_link, who.workspace_id, spec, origin=state.origin, now=utcnow()
    )
    state.cache.invalidate()
    return {"tracked": True, **link.to_json()}  # every field set: `warnings` only when made


@router.post(
    "/import",
    response_model=LinksImported,
    response_model_exclude_unset=True,  # a created link's `warnings` only when it has some
    summary="Create links from a CSV body",
    openapi_extra=body_limit(MiB, csv=True, example=_IMPORT_EXAMPLE),
)
async def import_links(request: Request, state: State, who: Admin) -> dict[str, Any]:
    """Create one link per CSV row (the body, `Content-Type: text/csv`, at most 1 MiB and
    10,000 rows). Columns: `url` (required), `code`, `campaign`, `source`, `medium`, `content`,
    `term`, `id`, `source_platform`, `creative_format`, `marketing_tactic`, `tags` (separated
    by `|`); `utm_` prefixes are allowed and other columns are ignored (`ignored_columns`).

    A bad row does not stop the others: it is listed in `errors` with its line number, its
    error and the builder's issues. Rows on excluded domains come back with `"tracked": false`.
    """
    rows, ignored = imports.read_rows(await read_csv(request))
    done = await run_in_threadpool(
        imports.import_links,
        state.engine,
        who.workspace_id,
        rows,
        origin=state.origin,
        now=utcnow(),
        create=lambda *args, **kwargs: state.write(link_service.create_link, *args, **kwargs),
    )
    state.cache.invalidate()
    return {**done, "ignored_columns": ignored}


@router.get("", response_model=LinksPublic, summary="List links")
def list_links(
    state: State,
    who: Admin,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    campaign: str | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """A page of links, newest first, optionally only one campaign's or one tag's; `count` is
    how many match in all."""
    page, count = link_service.list_links(
        state.engine,
        who.workspace_id,
        origin=state.origin,
        limit=limit,
        offset=offset,
        campaign=campaign,
        tag=tag,
    )
    return {"data": [link.to_json() for link in page], "count": count}


@router.get("/{code}", response_model=LinkPublic, summary="Show a link")
def show_link(code: str, state: State, who: Admin) -> dict[str, Any]:
    """One link, with `tracked_url`: where it redirects now, after the destination's own UTMs,
    the link's, the campaign's and the workspace's defaults (in that precedence)."""
    return link_service.get_link(
        state.engine, code, origin=state.origin, workspace_id=who.workspace_id
    ).to_json()


@router.patch("/{code}", response_model=LinkPublic, summary="Change a link")
def update_link(code: str, body: LinkUpdate, state: State, who: Admin) -> dict[str, Any]:
    """Change what the body gives. `campaign` moves the link to another campaign ("" for
    none). Validated like a new link (422 with the builder's issues). A new `url` on an
    excluded domain is refused (422): such destinations never get a short link."""
    if body.url is not None:
        refuse_excluded(state.engine, who.workspace_id, body.url)
    utm = body.given()
    campaign = utm.pop("campaign", None)
    spec = link_service.LinkSpec(
        url=body.url,
        campaign=campaign,
        utm=utm,
        tags=body.tags,
        forward_query=body.forward_query,
        honeypot=body.honeypot,
        expires_at=body.expires_at,
    )
    link = state.write(
        link_service.update_link, who.workspace_id, code, spec, origin=state.origin, now=utcnow()
    )
    state.cache.invalidate()
    return link.to_json()


@router.post("/{code}/disable", status_code=204, summary="Disable a link")
def disable_link(code: str, state: State, who: Admin) -> Response:
    """Turn a link off: it then answers 410."""
    state.write(link_service.set_disabled, who.workspace_id, code, True)
    state.cache.invalidate()
    return Response(status_code=204)


@router.post("/{code}/enable", status_code=204, summary="Enable a link")
def enable_link(code: str, state: State, who: Admin) -> Response:
    """Turn a disabled link back on."""
    state.write(link_service.set_disabled, who.workspace_id, code, False)
    state.cache.invalidate()
    return Response(status_code=204)


@router.delete("/{code}", status_code=204, summary="Delete a link")
def delete_link(code: str, state: State, who: Admin) -> Response:
    """Delete a link and its clicks: its code then answers 404."""
    state.write(link_service.delete_link, who.workspace_id, code)
    state.cache.invalidate()
    return Response(status_code=204)


@router.get("/{code}/stats", summary="Click statistics of a link")
def stats(code: str, state: State, who: Admin) -> dict[str, Any]:
    """Clicks: total, human, bot, unique humans, by recipient and by day."""
    return link_stats(state.engine, code, workspace_id=who.workspace_id)


@router.post(
    "/{code}/recipient-url", response_model=RecipientUrl, summary="A link for one recipient"
)
def make_recipient_url(
    code: str, body: RecipientUrlRequest, state: State, who: Admin
) -> dict[str, str]:
    """The link for one recipient: `/{code}?r=<signed opaque token>`."""
    url = state.write(
        recipient_url,
        who.workspace_id,
        code,
        body.recipient,
        secrets_=[state.secret],
        origin=state.origin,
        now=utcnow(),
    )
    return {"url": url}


@router.get(
    "/{code}/qr.svg",
    summary="QR code of a link (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def qr_svg(code: str, state: State, who: Admin, scale: Scale = 10) -> Response:
    """An SVG QR code that encodes the link's short URL (4 modules of quiet zone)."""
    svg = _qr(state, who.workspace_id, code, "svg", scale)
    return Response(svg, media_type="image/svg+xml", headers=_QR_CACHE)


@router.get(
    "/{code}/qr.png",
    summary="QR code of a link (PNG)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def qr_png(code: str, state: State, who: Admin, scale: Scale = 10) -> Response:
    """A PNG QR code that encodes the link's short URL (4 modules of quiet zone)."""
    png = _qr(state, who.workspace_id, code, "png", scale)
    return Response(png, media_type="image/png", headers=_QR_CACHE)


def _qr(state: ServerState, workspace_id: int, code: str, kind: str, scale: int) -> bytes:
    link = link_service.get_link(state.engine, code, origin=state.origin, workspace_id=workspace_id)
    buffer = io.BytesIO()
    segno.make_qr(link.short_url).save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()
