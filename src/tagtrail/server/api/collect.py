"""Segment's HTTP tracking API: `POST /v1/track|identify|page|screen|alias|group|batch`.

The write key is the Basic-auth user (Segment's and RudderStack's libraries), a Bearer token,
or `writeKey` in the body (browsers' `sendBeacon`); a `write` or `admin` key. A body is read up
to its limit (32 KB for one event, 500 KB for a batch; gzip allowed), parsed by
`tagtrail.collect` (a batch is all or nothing), normalised, and committed through the group
writer; `200 {"success": true}` is sent only after the commit. A repeated `messageId` is
acknowledged and not stored twice. `"cookieless": true` in the body makes the server derive the
anonymous id (the daily salted visitor hash) for events without an `anonymousId`.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import time
import weakref
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic_core import from_json

from tagtrail.collect import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Batch,
    Event,
    EventType,
    check_size,
    normalize,
    parse_batch,
    parse_event,
)
from tagtrail.errors import AuthError, EventTooLarge, InvalidEvent, StoreError
from tagtrail.server.errors import error_body
from tagtrail.server.state import ServerState
from tagtrail.service.collect import cookieless_id, event_row, hint_fact_rows, new_message_id
from tagtrail.service.keys import Principal, authenticate
from tagtrail.store.schema import events, identity_facts

router = APIRouter(prefix="/v1", tags=["collect"])

_KEY_TTL: Final = 30.0  # seconds a write key stays trusted without a look-up (revocation delay)
_keys: weakref.WeakKeyDictionary[ServerState, dict[str, tuple[float, Principal]]] = (
    weakref.WeakKeyDictionary()
)
_OK: Final = {"success": True}


async def principal(state: ServerState, raw: str | None) -> Principal:
    """The write (or admin) key's principal, cached for `_KEY_TTL` seconds."""
    if not raw:
        raise AuthError(
            "a write key is required",
            hint="send it as the Basic-auth user name, or as `writeKey` in the body",
        )
    cache = _keys.setdefault(state, {})
    now = time.monotonic()
    found = cache.get(raw)
    if found is not None and now - found[0] < _KEY_TTL:
        return found[1]
    who = await anyio.to_thread.run_sync(
        lambda: authenticate(state.engine, raw, kinds=("write", "admin"))
    )
    if len(cache) > 10_000:
        cache.clear()
    cache[raw] = (now, who)
    return who


def header_key(request: Request) -> str | None:
    return authorization_key(request.headers.get("authorization", ""))


def authorization_key(header: str) -> str | None:
    """The key of an `Authorization` header: the Basic-auth user, or the Bearer token."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        return user.partition(":")[0] or None
    if scheme.lower() == "bearer":
        return value.strip() or None
    return None


async def read_body(request: Request, limit: int, *, batch: bool) -> bytes:
    """The body (gunzipped), refused with 413 past `limit` bytes before more is read."""
    length = request.headers.get("content-length", "")
    if length.isdigit():
        check_size(int(length), batch=batch)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        check_size(size, batch=batch)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            inflater = zlib.decompressobj(wbits=31)
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error:
            raise InvalidEvent("the gzip body cannot be read", errors=("body: bad gzip",)) from None
        check_size(len(raw), batch=batch)
    return raw


def parse_json(raw: bytes) -> Any:
    """The body's JSON (UTF-8, a BOM allowed). pydantic-core's parser, unlike `json.loads`,
    refuses a lone surrogate (`"\\ud800"`), which no store can keep."""
    try:
        return from_json(raw.removeprefix(codecs.BOM_UTF8))
    except (ValueError, RecursionError) as exc:
        raise InvalidEvent(
            "the body is not JSON", hint="send a JSON object", errors=(f"body: {exc}",)
        ) from None


def fill_cookieless(items: list[Any], anonymous_id: str) -> None:
    """Give `anonymous_id` to the events without one (an identify then links the device)."""
    for item in items:
        if isinstance(item, dict) and not item.get("anonymousId"):
            item["anonymousId"] = anonymous_id


async def store_events(
    state: ServerState,
    who: Principal,
    parsed: list[Event],
    *,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """Normalise, derive touchpoints, verify hints, and commit (returns after the commit)."""
    received = datetime.now(UTC)
    settings = state.settings
    hosts = settings.site_hosts
    normalized = [
        normalize(
            e,
            received_at=received,
            ip=ip,
            user_agent=user_agent,
            site_hosts=hosts,
            generated_id=None if e.message_id else new_message_id(),
        )
        for e in parsed
    ]
    rows = [event_row(who.workspace_id, n, site_hosts=hosts) for n in normalized]
    hinted = [n for n in normalized if n.hint]
    facts: list[dict[str, Any]] = []
    if hinted:
        facts = await anyio.to_thread.run_sync(
            lambda: hint_fact_rows(
                state.engine, state.hints, who.workspace_id, hinted, now=received
            )
        )
    writes = [state.writer.insert_many(events, list(rows))]
    if facts:
        writes.append(state.writer.insert_many(identity_facts, list(facts)))
    results = await asyncio.gather(*writes, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result if isinstance(result, StoreError) else StoreError(str(result))


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def refused(exc: InvalidEvent) -> JSONResponse:
    status = 413 if isinstance(exc, EventTooLarge) else 400
    errors = list(exc.errors) or [exc.message]
    if exc.hint:
        errors.append(exc.hint)
    return JSONResponse(error_body(status, exc.message, errors), status_code=status)


async def collect(request: Request, kind: EventType | None) -> JSONResponse:
    state: ServerState = request.app.state.tagtrail
    batch = kind is None
    limit = MAX_BATCH_BYTES if batch else MAX_EVENT_BYTES
    try:
        body = parse_json(await read_body(request, limit, batch=batch))
        if not isinstance(body, dict):
            raise InvalidEvent("the body is not a JSON object", errors=("body: must be an object",))
        raw_key = header_key(request)
        if raw_key is None and isinstance(body.get("writeKey"), str):
            raw_key = body["writeKey"]
        who = await principal(state, raw_key)
        ip = client_ip(request)
        agent = request.headers.get("user-agent")
        if body.get("cookieless") is True:
            items = body.get("batch") if batch else [body]
            if isinstance(items, list):
                day = datetime.now(UTC).date()
                ctx = body.get("context") if isinstance(body.get("context"), dict) else {}
                ua = str((ctx or {}).get("userAgent") or agent or "")
                fill_cookieless(
                    items, cookieless_id(state.secret, day, ip or "", ua, who.workspace_id)
                )
        parsed = parse_batch(body) if batch else [parse_event(body, kind=kind)]
    except EventTooLarge as exc:
        return refused(exc)
    except InvalidEvent as exc:
        if any("the event is over" in e for e in exc.errors):  # one event of a batch: 413 too
            return refused(EventTooLarge(exc.message, hint=exc.hint, errors=exc.errors))
        return refused(exc)
    await store_events(state, who, parsed, ip=ip, user_agent=agent)
    return JSONResponse(_OK)


_EVENT_BODY: Final[Mapping[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_BATCH_BODY: Final[Mapping[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": Batch.model_json_schema(by_alias=True)}},
    }
}
_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "Stored (committed), or a duplicate already stored"},
    400: {"description": "Not a valid event (the error body lists each field)"},
    401: {"description": "No write key, or an unknown or revoked one"},
    413: {"description": "Over 32 KB for one event, 500 KB for a batch"},
}


@router.post(
    "/batch",
    summary="Send a batch of events",
    openapi_extra=dict(_BATCH_BODY),
    responses=_ANSWERS,
)
async def batch(request: Request) -> JSONResponse:
    """Segment's `batch` call: `{"batch": [events…], "sentAt", "context", "writeKey"}`.
    All or nothing: one invalid event refuses the batch. 200 only after the commit."""
    return await collect(request, None)


def _single(kind: EventType) -> None:
    async def handler(request: Request) -> JSONResponse:
        return await collect(request, kind)

    handler.__name__ = f"collect_{kind}"
    router.add_api_route(
        f"/{kind}",
        handler,
        methods=["POST"],
        summary=f"Send one {kind} event",
        description=f"Segment's `{kind}` call (32 KB at most). 200 only after the commit.",
        openapi_extra=dict(_EVENT_BODY),
        responses=_ANSWERS,
    )


_SINGLE: Final[tuple[EventType, ...]] = ("track", "identify", "page", "screen", "alias", "group")
for _kind in _SINGLE:
    _single(_kind)
