"""Named dependencies of the API routes (the template's style: name once, use as a type)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine

from tagtrail.server.state import ServerState
from tagtrail.service.keys import Principal, authenticate


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.tagtrail
    return state


State = Annotated[ServerState, Depends(get_state)]


def get_engine(state: State) -> Engine:
    return state.engine


Store = Annotated[Engine, Depends(get_engine)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def get_admin(request: Request, state: State) -> Principal:
    raw = _bearer(request)
    return await anyio.to_thread.run_sync(lambda: authenticate(state.engine, raw, kinds=("admin",)))


Admin = Annotated[Principal, Depends(get_admin)]


def utcnow() -> datetime:
    """Now, as the store keeps times: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
