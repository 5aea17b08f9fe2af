"""`create_app(settings)`: the redirect for `/{code}`, FastAPI for everything else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagtrail import __version__
from tagtrail.server import errors, snippet
from tagtrail.server.api import (
    attribution,
    campaigns,
    collect,
    links,
    messages,
    profiles,
    sends,
    tools,
    workspace,
)
from tagtrail.server.batch import BatchEndpoint
from tagtrail.server.dashboard import routes as dashboard_routes
from tagtrail.server.redirect import Headers, Redirector, is_click
from tagtrail.server.slashes import relative_slash_redirects
from tagtrail.server.state import ServerState
from tagtrail.settings import Settings


def create_app(settings: Settings, *, server_header: bytes | None = None) -> ASGIApp:
    """The whole server as one ASGI app (its lifespan opens the store and the writer).
    `server_header`: a `server` header put in every answer (none by default)."""
    return create_apps(settings, server_header=server_header)[0]


def create_apps(
    settings: Settings, *, server_header: bytes | None = None
) -> tuple[ASGIApp, Redirector]:
    """`create_app`'s app and its redirect handler, which an RSGI front calls directly."""
    state = ServerState(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with state.lifespan():
            yield

    api = FastAPI(
        title="tagtrail",
        version=__version__,
        description="Campaign links, click tracking and attribution. Authenticate with "
        "`Authorization: Bearer <admin key>`.",
        lifespan=lifespan,
    )
    api.state.tagtrail = state
    relative_slash_redirects(api.router)
    errors.install(api)
    api.include_router(links.router)
    api.include_router(campaigns.router)
    api.include_router(workspace.router)
    api.include_router(sends.router)
    api.include_router(messages.router)
    api.include_router(tools.router)
    api.include_router(collect.router)
    api.include_router(profiles.router)
    api.include_router(attribution.router)
    api.include_router(snippet.router)
    api.include_router(dashboard_routes.router)

    @api.get("/health", tags=["server"])
    def health() -> dict[str, object]:
        return {"ok": True, "version": __version__}

    extra: Headers = () if server_header is None else ((b"server", server_header),)
    redirect = Redirector(state, extra)
    collector = with_headers(snippet.with_cors(api), extra)
    batch = with_headers(
        snippet.with_cors(BatchEndpoint(state, api)), extra
    )  # the rest of /v1: FastAPI
    rest = with_headers(api, extra)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_click(scope["method"], scope["path"]):
            await redirect(scope, receive, send)
            return
        if scope["type"] == "http" and snippet.wants_cors(scope["path"]):
            if scope["method"] == "POST" and scope["path"] == "/v1/batch":
                await batch(scope, receive, send)
            else:
                await collector(scope, receive, send)
            return
        await rest(scope, receive, send)

    app.state = state  # type: ignore[attr-defined]
    return app, redirect


def with_headers(app: ASGIApp, extra: Headers) -> ASGIApp:
    """`app` with `extra` headers added to each answer's start (`app` itself when none)."""
    if not extra:
        return app

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await app(scope, receive, send_with)

    return wrapped
