"""/api/messages: campaign messages (DESIGN §9). Thin: every route calls the service."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from tagtrail.errors import InvalidInput
from tagtrail.server.api.limits import LimitedRoute, MiB, body_limit
from tagtrail.server.deps import Admin, State, utcnow
from tagtrail.service import message_render
from tagtrail.service import messages as service
from tagtrail.service.sends import parse_time

router = APIRouter(prefix="/api/messages", tags=["messages"], route_class=LimitedRoute)
RENDER_LIMIT = 64 * MiB
_EXAMPLE = "recipient,name\nann@example.com,Ann\n+34600111222,Bea\nuser-42,Cy\n"


class MessageCreate(BaseModel):
    """A message body and how to track its links (the options of `tagtrail messages create`)."""

    model_config = ConfigDict(extra="forbid")

    campaign: str = Field(min_length=1, max_length=200)
    channel: str = Field(pattern="^(email|sms)$")
    body: str = Field(max_length=service.MAX_BODY["email"])
    name: str | None = Field(None, max_length=200)
    preset: str | None = Field(None, max_length=100)
    source: str | None = Field(None, max_length=500)
    medium: str | None = Field(None, max_length=500)
    holdout: str | float | None = Field(None, description="A percentage: `10%` or 10.")


@router.post("", status_code=201, summary="Create a message", openapi_extra=body_limit(2 * MiB))
def create_message(body: MessageCreate, state: State, who: Admin) -> dict[str, Any]:
    """Store a message: each trackable link of the body becomes a short link of the campaign
    (its `utm_content` the anchor text's slug, else `link-N`); the others are listed in
    `skipped` with their reason. Answers the document of `tagtrail messages create --json`."""
    spec = service.MessageSpec(
        body.campaign,
        body.channel,
        body.body,
        body.name,
        body.preset,
        body.source,
        body.medium,
        None if body.holdout is None else str(body.holdout),
    )
    return service.create_message(
        state.engine, who.workspace_id, spec, origin=state.origin, now=utcnow()
    )


@router.get("", summary="List messages")
def list_messages(state: State, who: Admin) -> dict[str, Any]:
    """The workspace's messages, newest first (`data`, `count`)."""
    return service.list_messages(state.engine, who.workspace_id)


@router.get("/{message_id}", summary="Show a message")
def show_message(message_id: int, state: State, who: Admin) -> dict[str, Any]:
    """A message's links, skipped links and SMS segments (as when it was created)."""
    return service.show_message(state.engine, who.workspace_id, message_id, origin=state.origin)


@router.get("/{message_id}/stats", summary="A message's clicks and who clicked")
def message_stats(message_id: int, state: State, who: Admin) -> dict[str, Any]:
    """Sent, held out, clicked, click rate, clicks per link and the recipients who clicked, by
    the address given at render time (admin keys only)."""
    return service.message_stats(
        state.engine, who.workspace_id, message_id, secret=state.secret, admin=True
    )


@router.post(
    "/{message_id}/render",
    summary="Render a message for its recipients",
    openapi_extra=body_limit(RENDER_LIMIT, csv=True, example=_EXAMPLE),
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def render_message(
    message_id: int, request: Request, state: State, who: Admin, sent_at: str | None = None
) -> StreamingResponse:
    """Recipients in (a CSV with a `recipient` column, or JSON lines of `{"recipient": …}`; at
    most 64 MiB), one JSON line per recipient out, streamed: `{"recipient", "held_out": false,
    "body"}` or `{"recipient", "held_out": true}`. Every recipient is checked first (a bad or
    duplicate one answers 422 naming its line, and nothing is recorded); each rendered one is
    recorded as a send at `sent_at` (ISO 8601, default now)."""
    when = parse_time(sent_at, where="sent_at") if sent_at else utcnow()
    spool = tempfile.SpooledTemporaryFile(max_size=MiB)
    async for chunk in request.stream():
        spool.write(chunk)

    def lines() -> Iterable[str]:
        spool.seek(0)
        return _text_lines(spool)

    try:
        renderer, _, items = await run_in_threadpool(
            message_render.render_message,
            state.engine,
            who.workspace_id,
            message_id,
            lines,
            secret=state.secret,
            origin=state.origin,
            sent_at=when,
            now=utcnow(),
        )
    except BaseException:
        spool.close()
        raise

    def body() -> Iterator[str]:
        try:
            buffer: list[str] = []
            for item in items:
                buffer.append(renderer.json_line(item))
                if len(buffer) >= 200:
                    yield "".join(buffer)
                    buffer.clear()
            if buffer:
                yield "".join(buffer)
        finally:
            spool.close()

    return StreamingResponse(body(), media_type="application/x-ndjson")


def _text_lines(raw: IO[bytes]) -> Iterator[str]:
    for line in raw:
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the recipients are not UTF-8 text", hint="send UTF-8") from None
