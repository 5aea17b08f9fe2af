"""The app `tagtrail serve` runs in each worker process, built from `TAGTRAIL_*` settings
(`granian --factory` or `uvicorn --factory` on `tagtrail.server.factory:app`)."""

from __future__ import annotations

from typing import cast

from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tagtrail.server.app import create_app
from tagtrail.settings import Settings


def app() -> ASGIApp:
    settings = Settings()
    # Granian names itself in a `server` header unless the response has one: an empty one.
    served = create_app(settings, server_header=b"" if settings.server == "granian" else None)
    if not settings.forwarded_allow_ips:
        return served
    # The client address and scheme from a trusted proxy's X-Forwarded-For and
    # X-Forwarded-Proto: uvicorn's middleware is plain ASGI, so it runs under either server.
    proxied = ProxyHeadersMiddleware(served, trusted_hosts=settings.forwarded_allow_ips)  # type: ignore[arg-type]
    return cast(ASGIApp, proxied)
