"""`POST /v1/batch` on raw ASGI: the collection fast path (in front of FastAPI).

The FastAPI route (`tagtrail.server.api.collect`) is the reference: it documents the call, and
it names every bad field. This endpoint stores the batches that need nothing more than their
rows, with as little Python per event as it can: the body is parsed by pydantic-core's JSON
parser, the whole batch is validated in one call (`quick_batch`), its rows are built in bulk
(`batch_values`) and handed to the group writer as value tuples; `200 {"success": true}` is
sent after the commit, as the route does. Anything else — a body it cannot parse or validate,
an unknown or missing key, a batch-level `context`, `cookieless`, an event without a
`messageId` or with a `tt_hint`, a body without `Content-Length` or over the limit, an encoding
other than gzip — goes to the route with the body already read, so the answers (400 naming the
field, 401, 413) are the route's own.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagtrail.collect.schema import MAX_BATCH_BYTES, quick_batch
from tagtrail.errors import AuthError, StoreError
from tagtrail.server.api.collect import authorization_key, principal
from tagtrail.server.errors import domain_error
from tagtrail.server.state import ServerState
from tagtrail.service.batch import batch_values
from tagtrail.service.collect import EVENT_COLUMNS
from tagtrail.store.schema import events
from tagtrail.store.writer import Values

__all__ = ["BatchEndpoint"]

_OK: Final = b'{"success":true}'
_HEADERS: Final = (b"content-length", b"content-encoding", b"authorization", b"user-agent")
_OK_HEADERS: Final = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_OK)).encode()),
]


class BatchEndpoint:
    """`POST /v1/batch`; what it does not store itself goes to `full` (the FastAPI app)."""

    def __init__(self, state: ServerState, full: ASGIApp) -> None:
        self._state = state
        self._full = full
        self._site_hosts = tuple(state.settings.site_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = dict.fromkeys(_HEADERS, b"")
        for name, value in scope["headers"]:
            if name in wanted and not wanted[name]:  # the first one, as Starlette reads them
                wanted[name] = value
        length, encoding, authorization, agent = wanted.values()
        if not length.isdigit() or int(length) > MAX_BATCH_BYTES:
            await self._full(scope, receive, send)
            return
        raw = await _read(receive)
        if raw is None:  # the client went away
            return
        client = scope.get("client")
        try:
            stored = await self._store(
                _decoded(raw, encoding),
                authorization.decode("latin-1"),
                agent.decode("latin-1") or None,
                client[0] if client else None,
            )
        except StoreError as exc:
            await domain_error(exc)(scope, receive, send)
            return
        if not stored:
            await self._full(scope, _replay(raw, receive), send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": _OK_HEADERS})
        await send({"type": "http.response.body", "body": _OK})

    async def _store(
        self, body: bytes | None, authorization: str, agent: str | None, ip: str | None
    ) -> bool:
        """True once the batch is committed; False when the full path must answer."""
        batch = quick_batch(body) if body is not None else None
        if batch is None:
            return False
        key = authorization_key(authorization) or batch.write_key
        if not key:
            return False
        state = self._state
        try:
            who = await principal(state, key)
        except AuthError:
            return False
        try:
            rows = batch_values(
                who.workspace_id,
                batch,
                received_at=datetime.now(UTC),
                ip=ip,
                user_agent=agent,
                site_hosts=self._site_hosts,
                times_as_text=state.times_as_text,
            )
        except OverflowError:
            return False
        if rows is None:
            return False
        await state.writer.insert_values(events, Values(EVENT_COLUMNS, rows))
        return True


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _decoded(raw: bytes, encoding: bytes) -> bytes | None:
    """The body as JSON bytes: gunzipped if it is gzip; None for another encoding, a bad gzip or
    one over the limit (the full path answers those)."""
    kind = encoding.strip().lower()
    if not kind or kind == b"identity":
        return raw
    if kind != b"gzip":
        return None
    try:
        body = zlib.decompressobj(wbits=31).decompress(raw, MAX_BATCH_BYTES + 1)
    except zlib.error:
        return None
    return body if len(body) <= MAX_BATCH_BYTES else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` that gives `body` again first (the full path reads it as if it were new)."""
    pending = True

    async def again() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
