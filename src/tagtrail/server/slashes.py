"""The trailing-slash redirect (`/api/links/` → `/api/links`), with a relative `Location`.

Starlette's own builds an absolute URL from the request's `Host` header, so `Host: evil.example`
got `307 location: http://evil.example/api/links`. A relative reference (RFC 9110 §10.2.2)
needs no host at all: the browser resolves it against the URL it asked for.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send


def relative_slash_redirects(router: Router) -> None:
    """Make `router` answer a path that matches a route only with (or without) a trailing
    slash by a 307 to the other form, relative; everything else falls through to its 404."""
    router.redirect_slashes = False
    fallback: ASGIApp = router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        location = _other_form(router, scope) if scope["type"] == "http" else None
        if location is None:
            await fallback(scope, receive, send)
            return
        await RedirectResponse(location, status_code=307)(scope, receive, send)

    router.default = default


def _other_form(router: Router, scope: Scope) -> str | None:
    root = str(scope.get("root_path", ""))
    path = str(scope["path"])
    path = path[len(root) :] if root and path.startswith(root) else path
    if path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if not other.startswith("/") or other.startswith("//"):
        return None  # `//host` would be a network-path reference: another site
    candidate = {**scope, "path": root + other}
    if not any(route.matches(candidate)[0] is not Match.NONE for route in router.routes):
        return None
    location = quote(str(candidate["path"]), safe="/:@!$&'()*+,;=-._~")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{location}?{query}" if query else location
