"""`GET /t.js` (the first-party snippet), `GET /t.gif` (the no-script pixel) and CORS for them
and for `/v1/*` (`with_cors`, put in front of the API by the app's dispatcher)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagtrail.collect import parse_event
from tagtrail.errors import InvalidEvent
from tagtrail.server.api.collect import client_ip, principal, refused, store_events
from tagtrail.server.state import ServerState
from tagtrail.service.collect import cookieless_id

router = APIRouter(tags=["collect"])

SNIPPET: Final = (resources.files("tagtrail.server") / "static" / "t.js").read_bytes()
# The smallest transparent 1×1 GIF.
PIXEL: Final = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
CORS_PATHS: Final = ("/t.js", "/t.gif")
_CORS: Final = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type, Content-Encoding"),
    (b"access-control-max-age", b"86400"),
]


def wants_cors(path: str) -> bool:
    return path.startswith("/v1/") or path in CORS_PATHS


def with_cors(app: ASGIApp) -> ASGIApp:
    """Answer preflights (`OPTIONS`) with 204, and allow every origin on every answer."""

    async def cors(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": _CORS})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), _CORS[0]]}
            await send(message)

        await app(scope, receive, send_with_cors)

    return cors


@router.get(
    "/t.js",
    summary="The first-party snippet",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}}},
)
def snippet() -> Response:
    """The browser snippet (no dependencies): page views, `tagtrail.track()`,
    `tagtrail.identify()`, the `tt_aid` cookie or `data-cookieless`; docs/collect.md."""
    return Response(
        SNIPPET,
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


def _pixel_event(request: Request) -> tuple[dict[str, Any], str]:
    q = request.query_params
    kind = "track" if q.get("t") == "track" else "page"
    url = q.get("url") or request.headers.get("referer") or None
    page = {"url": url, "referrer": q.get("ref") or None, "title": q.get("title") or None}
    event: dict[str, Any] = {
        "context": {"page": {k: v for k, v in page.items() if v}},
        "anonymousId": q.get("aid") or None,
        "userId": q.get("uid") or None,
    }
    if kind == "track":
        event["event"] = q.get("e") or None
    else:
        event["name"] = q.get("e") or None
    return {k: v for k, v in event.items() if v is not None}, kind


@router.get(
    "/t.gif",
    summary="The no-script tracking pixel",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}}}},
)
async def pixel(request: Request) -> Response:
    """A page view (or `t=track` with event `e`) from query parameters: `k` the write key,
    `url` (else the Referer), `ref`, `title`, `aid`, `uid`; with neither id the visitor is
    cookieless. Answers a 1×1 GIF, `Cache-Control: no-store`, once the event is committed."""
    state: ServerState = request.app.state.tagtrail
    try:
        event, kind = _pixel_event(request)
        who = await principal(state, request.query_params.get("k"))
        ip = client_ip(request)
        agent = request.headers.get("user-agent")
        if "anonymousId" not in event and "userId" not in event:
            day = datetime.now(UTC).date()
            event["anonymousId"] = cookieless_id(
                state.secret, day, ip or "", agent or "", who.workspace_id
            )
        parsed = parse_event(event, kind=kind)  # type: ignore[arg-type]
    except InvalidEvent as exc:
        return refused(exc)
    await store_events(state, who, [parsed], ip=ip, user_agent=agent)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


__all__ = ["CORS_PATHS", "PIXEL", "SNIPPET", "router", "wants_cors", "with_cors"]
