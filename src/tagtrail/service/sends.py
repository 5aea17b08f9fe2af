"""Sends (exposures): who was sent which campaign when. The bot timing rule and, later, the
billboard attribution model read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from tagtrail.errors import InvalidInput
from tagtrail.service.links import campaign_id_for
from tagtrail.service.recipients import ensure_recipient
from tagtrail.store.schema import sends

SEND_COLUMNS = ("recipient", "campaign", "message", "sent_at", "channel", "held_out")
#: Most sends one request or CSV import may carry.
MAX_SENDS = 10_000


@dataclass(frozen=True, slots=True)
class SendSpec:
    recipient: str
    sent_at: datetime
    campaign: str | None = None
    message: str = ""
    channel: str = ""
    #: held out of the campaign (DESIGN §10): recorded as a time anchor, never sent a link
    held_out: bool = False


def parse_time(value: str, *, where: str) -> datetime:
    """An ISO 8601 time as naive UTC (`2024-01-03T14:05:09Z`; no zone means UTC)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{where}: {value!r} is not an ISO 8601 time", hint="write e.g. 2024-01-03T14:05:09Z"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def record_sends(
    engine: Engine, workspace_id: int, items: Iterable[SendSpec], *, secret: bytes, now: datetime
) -> int:
    """Store sends (all or none); return how many."""
    count = 0
    with engine.begin() as conn:
        for item in items:
            person = ensure_recipient(conn, workspace_id, item.recipient, secret=secret, now=now)
            conn.execute(
                insert(sends).values(
                    workspace_id=workspace_id,
                    recipient_id=person.id,
                    campaign_id=campaign_id_for(conn, workspace_id, item.campaign, now=now),
                    message=item.message,
                    channel=item.channel,
                    sent_at=item.sent_at,
                    held_out=item.held_out,
                )
            )
            count += 1
    return count


def parse_sends_csv(text: str) -> tuple[list[SendSpec], list[str]]:
    """The sends of a CSV (header `recipient,campaign,message,sent_at,channel,held_out`;
    campaign, message, channel and held_out optional), and a message per bad row, each starting
    with its line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        reader.fieldnames = [h.strip().lower() for h in reader.fieldnames or ()]
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    header = set(reader.fieldnames)
    if not {"recipient", "sent_at"} <= header:
        return [], [
            "line 1: the header needs recipient and sent_at (" + ",".join(SEND_COLUMNS) + ")"
        ]
    items: list[SendSpec] = []
    problems: list[str] = []
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            if len(items) + len(problems) >= MAX_SENDS:
                return [], [f"{where}: more than {MAX_SENDS:,} rows; split the file"]
            if None in row:
                problems.append(f"{where}: more values than the header has columns")
                continue
            try:
                items.append(spec_from_row(row, where=where))
            except InvalidInput as exc:
                problems.append(exc.message)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: unreadable CSV: {exc}")
    return items, problems


def spec_from_row(row: Mapping[str, str | None], *, where: str) -> SendSpec:
    recipient = (row.get("recipient") or "").strip()
    if not recipient:
        raise InvalidInput(f"{where}: recipient is empty")
    return SendSpec(
        recipient=recipient,
        sent_at=parse_time(row.get("sent_at") or "", where=where),
        campaign=(row.get("campaign") or "").strip() or None,
        message=(row.get("message") or "").strip(),
        channel=(row.get("channel") or "").strip(),
        held_out=parse_held_out(row.get("held_out"), where=where),
    )


def parse_held_out(value: str | None, *, where: str) -> bool:
    """`true` or `false` (any case; empty or absent: false); anything else is refused."""
    text = (value or "").strip().lower()
    if text in ("", "false"):
        return False
    if text == "true":
        return True
    raise InvalidInput(f"{where}: held_out {value!r} is not a boolean", hint="write true or false")


def last_send_before(
    engine: Engine, recipient_id: int, campaign_id: int | None, moment: datetime
) -> datetime | None:
    """The latest send to this recipient (of this campaign, when known) at or before `moment`."""
    query = select(sends.c.sent_at).where(
        sends.c.recipient_id == recipient_id, sends.c.sent_at <= moment
    )
    if campaign_id is not None:
        query = query.where(sends.c.campaign_id == campaign_id)
    with engine.connect() as conn:
        value = conn.execute(query.order_by(sends.c.sent_at.desc()).limit(1)).scalar()
    return value if isinstance(value, datetime) else None
