"""Named dependencies of the API routes (the template's style: name once, use as a type)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request

from tagtrail.errors import AuthError
from tagtrail.server.state import ServerState
from tagtrail.service.keys import Principal, authenticate


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.tagtrail
    return state


State = Annotated[ServerState, Depends(get_state)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


async def authenticate_admin(state: ServerState, address: str, raw: str | None) -> Principal:
    """The admin key's principal; a wrong key counts against `address` (limited to
    `auth_failure_limit` per window, then 429 + Retry-After before the key is looked up)."""
    state.auth_failures.check(address)
    try:
        return await anyio.to_thread.run_sync(
            lambda: authenticate(state.engine, raw, kinds=("admin",))
        )
    except AuthError:
        if raw:  # a request without any key is a mistake, not a guess
            state.auth_failures.failed(address)
        raise


async def get_admin(request: Request, state: State) -> Principal:
    return await authenticate_admin(state, client_address(request), _bearer(request))


Admin = Annotated[Principal, Depends(get_admin)]


def utcnow() -> datetime:
    """Now, as the store keeps times: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
