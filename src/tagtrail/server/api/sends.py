"""/api/sends: record sends (who was sent which campaign when), as JSON or as a CSV body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from tagtrail.server.api.limits import LimitedRoute, MiB, body_limit, read_csv
from tagtrail.server.api.models import SendIn, SendsStored
from tagtrail.server.deps import Admin, State, utcnow
from tagtrail.server.errors import error_body
from tagtrail.service.sends import MAX_SENDS, SendSpec, parse_sends_csv, record_sends

router = APIRouter(prefix="/api/sends", tags=["sends"], route_class=LimitedRoute)
_EXAMPLE = (
    "recipient,campaign,message,sent_at,channel,held_out\n"
    "ana@example.com,spring-sale,msg-1,2024-03-01T09:00:00Z,email,false\n"
)


@router.post(
    "",
    response_model=SendsStored,
    summary="Record sends",
    openapi_extra=body_limit(2 * MiB),
)
def store_sends(
    body: Annotated[list[SendIn], Body(max_length=MAX_SENDS)], state: State, who: Admin
) -> dict[str, int]:
    """Store a JSON list of sends (at most 10,000; body at most 2 MiB), all or none. A bad
    item refuses the whole request with 422, each error starting with the item's index (from
    0). Recipients are stored as keyed hashes of emails, or user ids; campaigns are created on
    first use."""
    items = [
        SendSpec(
            recipient=item.recipient,
            sent_at=_naive_utc(item),
            campaign=item.campaign or None,
            message=item.message,
            channel=item.channel,
            held_out=item.held_out,
        )
        for item in body
    ]
    stored = state.write(record_sends, who.workspace_id, items, secret=state.secret, now=utcnow())
    return {"stored": stored}


@router.post(
    "/import",
    response_model=SendsStored,
    summary="Record sends from a CSV body",
    openapi_extra=body_limit(2 * MiB, csv=True, example=_EXAMPLE),
)
async def import_sends(request: Request, state: State, who: Admin) -> Any:
    """Store the sends of a CSV body (`Content-Type: text/csv`, at most 2 MiB and 10,000 rows;
    header `recipient,campaign,message,sent_at,channel,held_out`, of which `recipient` and
    `sent_at` are required; `held_out` is `true` or `false`), all or none. Any bad row refuses
    the whole import with 422, and `errors` lists every bad row by its line number (the header
    is line 1)."""
    text = await read_csv(request)
    items, problems = parse_sends_csv(text)
    if problems:
        message = f"{len(problems)} bad row(s); nothing was stored"
        return JSONResponse(error_body(422, message, problems), status_code=422)
    stored = await state.writer.call(
        record_sends, who.workspace_id, items, secret=state.secret, now=utcnow()
    )
    return {"stored": stored}


def _naive_utc(item: SendIn) -> datetime:
    moment = item.sent_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
