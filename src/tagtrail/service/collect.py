"""Collected events → store rows (the write side of issue 5; `tagtrail.collect` is the pure core).

One event is one `events` row that also carries its touchpoint, if it is one (`tp_*` columns),
so a batch of N events is N rows in one transaction. Facts that are not events — a verified
identity hint, an imported journey row — go to `identity_facts` and `touchpoints`; a short-link
click's touchpoint is its click row (`clicks.url`, read by `tagtrail.service.collected`). Every
table is de-duplicated on (workspace, message id) by a unique index and written with `ON
CONFLICT DO NOTHING`: a retried batch is acknowledged and stored once. An event received
without a `messageId` gets a new one (`new_message_id`), so only the ids a client sent are
de-duplicated. Times are naive UTC; IPs
are anonymised before they reach a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import uuid4

from pydantic_core import to_json
from sqlalchemy import Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from tagtrail.clicks import (
    HINT_PARAMETER,
    IdentityHints,
    anonymize_ip,
    redact_url,
    visitor_hash,
)
from tagtrail.collect import NormalizedEvent, Touchpoint, touchpoint_for, verify_hint
from tagtrail.store.identities import fold_all
from tagtrail.store.schema import recipients

_HINT: Final = (HINT_PARAMETER,)

__all__ = [
    "EVENT_COLUMNS",
    "cookieless_id",
    "new_message_id",
    "event_row",
    "hint_fact_rows",
    "json_text",
    "naive",
    "strip_hint",
    "touchpoint_row",
    "write_rows",
]


def new_message_id() -> str:
    """The id of an event received without a `messageId`: `tt-` and 32 random hex digits, new
    for every event, so that two identical calls without an id are two events."""
    return "tt-" + uuid4().hex


def naive(value: datetime) -> datetime:
    """An aware time as the store keeps it: naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def cookieless_id(secret: bytes, day: date, ip: str, user_agent: str, workspace_id: int) -> str:
    """The anonymous id of a cookieless visitor: the daily-rotating salted hash of the redirect
    (`visitor_hash`), so nothing is stored on the device and the id changes every day."""
    return "ck-" + visitor_hash(secret, day, ip, user_agent, str(workspace_id))


def strip_hint(url: str | None) -> str | None:
    """`url` as it is stored: without its `tt_hint` parameter (a hint is verified, never
    stored) and with emails and phone numbers in it redacted (`redact_url`)."""
    return redact_url(url, drop=_HINT)


EVENT_COLUMNS: Final = (
    "workspace_id",
    "message_id",
    "type",
    "timestamp",
    "received_at",
    "anonymous_id",
    "user_id",
    "previous_id",
    "group_id",
    "event",
    "name",
    "url",
    "referrer",
    "title",
    "user_agent",
    "ip",
    "properties",
    "traits",
    "tp_kind",
    "tp_source",
    "tp_medium",
    "tp_campaign",
    "tp_content",
    "tp_term",
    "tp_channel",
    "tp_click_id",
)
"""The columns of an `events` row, in `event_row`'s order (the fast path's value tuples)."""


def event_row(
    workspace_id: int, event: NormalizedEvent, *, site_hosts: Iterable[str] = ()
) -> dict[str, Any]:
    """The `events` row of a normalised event, with its touchpoint's columns when it is one."""
    touch = touchpoint_for(event, site_hosts=site_hosts)
    return {
        "workspace_id": workspace_id,
        "message_id": event.message_id[:200],
        "type": event.type,
        "timestamp": naive(event.timestamp),
        "received_at": naive(event.received_at),
        "anonymous_id": event.anonymous_id,
        "user_id": event.user_id,
        "previous_id": event.previous_id,
        "group_id": event.group_id,
        "event": event.event,
        "name": event.name,
        "url": strip_hint(event.url),
        "referrer": redact_url(event.referrer),
        "title": event.title,
        "user_agent": (event.user_agent or "")[:512] or None,
        "ip": anonymize_ip(event.ip) if event.ip else None,
        "properties": json_text(event.properties),
        "traits": json_text(event.traits),
        "tp_kind": touch.kind if touch else None,
        "tp_source": touch.source if touch else None,
        "tp_medium": touch.medium if touch else None,
        "tp_campaign": touch.campaign if touch else None,
        "tp_content": touch.content if touch else None,
        "tp_term": touch.term if touch else None,
        "tp_channel": touch.channel if touch else None,
        "tp_click_id": touch.click_id if touch else None,
    }


def json_text(value: Mapping[str, Any]) -> str:
    """`properties` or `traits` as stored: compact UTF-8 JSON (NaN as `NaN`), `{}` if empty."""
    if not value:
        return "{}"
    return to_json(value if type(value) is dict else dict(value), fallback=str).decode()


def touchpoint_row(workspace_id: int, touch: Touchpoint) -> dict[str, Any]:
    """A `touchpoints` row (an imported journey's touch)."""
    return {
        "workspace_id": workspace_id,
        "message_id": touch.message_id,
        "timestamp": naive(touch.timestamp),
        "kind": touch.kind,
        "source": touch.source,
        "medium": touch.medium,
        "campaign": touch.campaign,
        "content": touch.content,
        "term": touch.term,
        "channel": touch.channel,
        "click_id": touch.click_id,
        "referrer": redact_url(touch.referrer),
        "url": strip_hint(touch.url),
        "anonymous_id": touch.anonymous_id,
        "user_id": touch.user_id,
        "recipient": touch.recipient,
        "visitor": touch.visitor,
    }


def _user_recipients(engine: Engine, public_ids: set[str]) -> dict[str, str]:
    if not public_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(recipients.c.public_id, recipients.c.key).where(
                recipients.c.public_id.in_(sorted(public_ids)), recipients.c.kind == "user"
            )
        ).all()
    return {str(r.public_id): str(r.key) for r in rows}


def hint_fact_rows(
    engine: Engine,
    hints: IdentityHints,
    workspace_id: int,
    hinted: Iterable[NormalizedEvent],
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """`identity_facts` rows of the valid `tt_hint`s (verified now; a bad hint is ignored)."""
    workspace = str(workspace_id)
    aware_now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    found = [
        (event, recipient)
        for event in hinted
        if event.hint and event.anonymous_id
        if (recipient := hints.verify(event.hint, workspace, aware_now)) is not None
    ]
    users = _user_recipients(engine, {r for _, r in found})
    rows = []
    for event, _recipient in found:
        assert event.anonymous_id is not None
        fact = verify_hint(
            hints,
            event.hint,
            workspace=workspace,
            now=aware_now,
            anonymous_id=event.anonymous_id,
            timestamp=event.timestamp,
            users=users,
        )
        if fact is not None:
            rows.append(
                {
                    "workspace_id": workspace_id,
                    "message_id": event.message_id[:200],
                    "kind": fact.kind,
                    "timestamp": naive(fact.timestamp),
                    "anonymous_id": fact.anonymous_id,
                    "user_id": fact.user_id,
                    "previous_id": None,
                    "recipient": fact.recipient,
                }
            )
    return rows


def write_rows(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` now, in one transaction, duplicates ignored (the CLI's local import)."""
    if not rows:
        return
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing()
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(statement, rows[start : start + 5000])
    fold_all(engine)  # the identity mapping takes the new rows' facts
