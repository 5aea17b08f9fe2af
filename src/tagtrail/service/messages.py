"""Campaign messages (DESIGN §9): create, list, show and stats. Rendering is in
`message_render`.

A message keeps its body and every link found in it (`positions`: tracked or skipped, with the
character span of each href value), so rendering cuts the body without parsing it again, and
one short link per tracked position in the campaign (`message_links`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, and_, case, func, insert, select

from tagtrail.clicks.addresses import AddressBox
from tagtrail.errors import InvalidInput, InvalidLink, NotFound
from tagtrail.lift.assignment import holdout_share
from tagtrail.links.presets import PRESETS
from tagtrail.messages import CHANNELS, Channel, FoundLink, Template, count_segments, plan_message
from tagtrail.messages.codes import CODE_LENGTH, MAX_POSITION
from tagtrail.service.links import LinkSpec, get_link, insert_link
from tagtrail.service.recipients import label
from tagtrail.service.workspace import get_workspace
from tagtrail.store.schema import (
    campaigns,
    clicks,
    links,
    message_links,
    message_recipients,
    messages,
    recipients,
    sends,
)

#: The largest body accepted: an email of 1 MB (Gmail clips at 102 KB), an SMS of 10 segments.
MAX_BODY = {"email": 1_000_000, "sms": 1_600}


@dataclass(frozen=True, slots=True)
class MessageSpec:
    campaign: str
    channel: str
    body: str
    name: str | None = None
    preset: str | None = None
    source: str | None = None
    medium: str | None = None
    holdout: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message, as rendering needs it."""

    id: int
    workspace_id: int
    campaign_id: int
    campaign: str
    name: str
    channel: Channel
    body: str
    found: tuple[FoundLink, ...]
    holdout: float | None
    campaign_holdout: float
    created_at: datetime

    @property
    def template(self) -> Template:
        return Template.of(self.body, (f for f in self.found if f.reason is None))

    @property
    def share(self) -> float:
        """The share held out: the message's own, else its campaign's."""
        return self.holdout if self.holdout is not None else self.campaign_holdout


def create_message(
    engine: Engine, workspace_id: int, spec: MessageSpec, *, origin: str, now: datetime
) -> dict[str, Any]:
    """Store a message and a short link per tracked position; the create document of §9."""
    channel = _channel(spec.channel)
    body = spec.body
    if len(body.encode()) > MAX_BODY[channel]:
        raise InvalidInput(
            f"the body is {len(body.encode()):,} bytes, over the {MAX_BODY[channel]:,} an "
            f"{channel} message may have",
            hint="shorten it, or host the long version on a web page and link to it",
        )
    share = holdout_share(spec.holdout) if spec.holdout not in (None, "") else None
    utm = _utm(spec, channel)
    workspace = get_workspace(engine, workspace_id)
    plan = plan_message(
        body,
        channel,
        short_host=(urlsplit(origin).hostname or "").lower(),
        excluded=workspace.excluded_domains,
    )
    if not plan.tracked:
        reasons = sorted({f.reason or "" for f in plan.skipped})
        found = f"{len(plan.links)} link(s) found, all skipped ({', '.join(reasons)})"
        raise InvalidInput(
            f"the message has no trackable link: {found if plan.links else 'no link found'}",
            hint="an email needs an <a href> to an http(s) page; an SMS a URL or a domain",
        )
    if plan.links[-1].position > MAX_POSITION:
        raise InvalidInput(f"the message has {len(plan.links)} links; at most {MAX_POSITION}")
    with engine.begin() as conn:
        campaign_id = _campaign_id(conn, workspace_id, spec.campaign)
        message_id = conn.execute(
            insert(messages)
            .values(
                workspace_id=workspace_id,
                campaign_id=campaign_id,
                name=(spec.name or "").strip() or f"{spec.campaign} {channel}",
                channel=channel,
                body=body,
                positions=json.dumps([_found_json(f) for f in plan.links]),
                holdout=share,
                created_at=now,
            )
            .returning(messages.c.id)
        ).scalar_one()
        for link in plan.tracked:
            link_spec = LinkSpec(url=link.url, utm={**utm, "content": link.content})
            try:
                link_id, _, _ = insert_link(conn, workspace_id, link_spec, campaign_id, now=now)
            except InvalidLink as exc:
                raise InvalidLink(
                    f"link {link.position} ({link.url[:80]}): {exc.message}",
                    hint=exc.hint or 'fix it, or mark it data-tagtrail="off"',
                    issues=exc.issues,
                ) from None
            conn.execute(
                insert(message_links).values(
                    message_id=message_id, position=link.position, link_id=link_id, text=link.text
                )
            )
    return show_message(engine, workspace_id, int(message_id), origin=origin)


def show_message(
    engine: Engine, workspace_id: int, message_id: int, *, origin: str
) -> dict[str, Any]:
    """The create document of a stored message (links, skipped, segments, warnings)."""
    with engine.connect() as conn:
        message = load_message(conn, workspace_id, message_id)
        rows = conn.execute(
            select(message_links.c.position, links.c.code, links.c.destination)
            .join(links, links.c.id == message_links.c.link_id)
            .where(message_links.c.message_id == message_id)
            .order_by(message_links.c.position)
        ).all()
    codes = {int(r.position): r.code for r in rows}
    tracked = [f for f in message.found if f.reason is None]
    documents = []
    for found in tracked:
        info = get_link(engine, codes[found.position], origin=origin)
        documents.append(
            {
                "position": found.position,
                "code": info.code,
                "short_url": info.short_url,
                "destination": info.destination,
                "tracked_url": info.tracked_url,
                "text": found.text,
            }
        )
    segments, warnings = _segments(message, origin)
    return {
        "message": message.id,
        "name": message.name,
        "campaign": message.campaign,
        "channel": message.channel,
        "holdout": message.holdout,
        "links": documents,
        "skipped": [
            {"position": f.position, "url": f.url, "reason": f.reason}
            for f in message.found
            if f.reason is not None
        ],
        "segments": segments,
        "warnings": warnings,
        "created_at": message.created_at.isoformat(),
    }


def list_messages(engine: Engine, workspace_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                messages.c.id,
                messages.c.name,
                messages.c.channel,
                messages.c.holdout,
                messages.c.created_at,
                campaigns.c.name.label("campaign"),
                select(func.count())
                .where(message_links.c.message_id == messages.c.id)
                .scalar_subquery()
                .label("links"),
            )
            .join(campaigns, campaigns.c.id == messages.c.campaign_id)
            .where(messages.c.workspace_id == workspace_id)
            .order_by(messages.c.id.desc())
        ).all()
    data = [
        {
            "message": int(r.id),
            "name": r.name,
            "campaign": r.campaign,
            "channel": r.channel,
            "holdout": r.holdout,
            "links": int(r.links),
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    return {"data": data, "count": len(data)}


def message_stats(
    engine: Engine, workspace_id: int, message_id: int, *, secret: bytes, admin: bool
) -> dict[str, Any]:
    """The stats document of §9; `recipients` (addresses) only for an admin, else null."""
    with engine.connect() as conn:
        message = load_message(conn, workspace_id, message_id)
        tag = str(message_id)
        counted = conn.execute(
            select(
                func.count(
                    func.distinct(case((sends.c.held_out.is_(False), sends.c.recipient_id)))
                ),
                func.count(func.distinct(case((sends.c.held_out.is_(True), sends.c.recipient_id)))),
            ).where(sends.c.workspace_id == workspace_id, sends.c.message == tag)
        ).one()
        per_link = conn.execute(
            select(
                message_links.c.position,
                message_links.c.text,
                links.c.code,
                func.count(clicks.c.id).label("total"),
                func.count(case((clicks.c.is_bot.is_(False), clicks.c.id))).label("human"),
                func.count(
                    func.distinct(case((clicks.c.is_bot.is_(False), clicks.c.recipient_id)))
                ).label("recipients"),
            )
            .join(links, links.c.id == message_links.c.link_id)
            .outerjoin(clicks, clicks.c.link_id == links.c.id)
            .where(message_links.c.message_id == message_id)
            .group_by(message_links.c.position, message_links.c.text, links.c.code)
            .order_by(message_links.c.position)
        ).all()
        who = conn.execute(
            select(
                recipients.c.kind,
                recipients.c.key,
                recipients.c.address,
                message_links.c.position,
                func.count().label("clicks"),
                func.min(clicks.c.clicked_at).label("first"),
            )
            .select_from(clicks)
            .join(message_links, message_links.c.link_id == clicks.c.link_id)
            .join(recipients, recipients.c.id == clicks.c.recipient_id)
            .join(
                message_recipients,
                and_(
                    message_recipients.c.recipient_id == recipients.c.id,
                    message_recipients.c.message_id == message_id,
                ),
            )
            .where(message_links.c.message_id == message_id, clicks.c.is_bot.is_(False))
            .group_by(
                recipients.c.kind, recipients.c.key, recipients.c.address, message_links.c.position
            )
        ).all()
    sent, held_out = int(counted[0]), int(counted[1])
    box = AddressBox(secret)
    people: dict[str, dict[str, Any]] = {}
    for row in who:
        name = box.open(row.address, row.key) or (
            row.key if row.kind == "user" else label(row.kind, row.key)
        )
        entry = people.setdefault(
            name, {"recipient": name, "clicks": 0, "first_click_at": row.first, "positions": []}
        )
        entry["clicks"] += int(row.clicks)
        entry["first_click_at"] = min(entry["first_click_at"], row.first)
        entry["positions"].append(int(row.position))
    listed = sorted(people.values(), key=lambda e: (e["first_click_at"], e["recipient"]))
    for entry in listed:
        entry["first_click_at"] = entry["first_click_at"].isoformat()
        entry["positions"].sort()
    total = sum(int(r.total) for r in per_link)
    human = sum(int(r.human) for r in per_link)
    return {
        "message": message.id,
        "campaign": message.campaign,
        "channel": message.channel,
        "sent": sent,
        "held_out": held_out,
        "clicked": len(people),
        "click_rate": round(len(people) / sent, 4) if sent else 0.0,
        "clicks": {"total": total, "human": human, "bot": total - human},
        "links": [
            {
                "position": int(r.position),
                "text": r.text,
                "code": r.code,
                "total": int(r.total),
                "human": int(r.human),
                "recipients": int(r.recipients),
            }
            for r in per_link
        ],
        "recipients": listed if admin else None,
    }


def load_message(conn: Connection, workspace_id: int, message_id: int) -> Message:
    row = conn.execute(
        select(messages, campaigns.c.name.label("campaign"), campaigns.c.holdout.label("ch"))
        .join(campaigns, campaigns.c.id == messages.c.campaign_id)
        .where(messages.c.id == message_id, messages.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFound(f"no message {message_id}", hint="see `tagtrail messages list`")
    found = tuple(
        FoundLink(d["position"], d["url"], d["text"], d["start"], d["end"], d["reason"])
        for d in json.loads(row.positions)
    )
    return Message(
        id=int(row.id),
        workspace_id=int(row.workspace_id),
        campaign_id=int(row.campaign_id),
        campaign=row.campaign,
        name=row.name,
        channel=row.channel,
        body=row.body,
        found=found,
        holdout=row.holdout,
        campaign_holdout=float(row.ch or 0.0),
        created_at=row.created_at,
    )


def _segments(message: Message, origin: str) -> tuple[dict[str, int] | None, list[str]]:
    """SMS: segments of the body as given and with a per-recipient link of maximal length."""
    if message.channel != "sms":
        return None, []
    template = message.template
    longest = f"{origin}/{'X' * CODE_LENGTH}"
    before = count_segments(message.body)
    after = count_segments(template.render([longest] * len(template.positions)))
    warnings = []
    if after.count > before.count:
        warnings.append(
            f"the tracked links take the SMS from {before.count} to {after.count} segments "
            f"({after.units} {'septets' if after.encoding == 'gsm7' else 'UCS-2 units'})"
        )
    return {"before": before.count, "after": after.count}, warnings


def _channel(value: str) -> Channel:
    for channel in CHANNELS:
        if value == channel:
            return channel
    raise InvalidInput(f"unknown channel {value!r}", hint="use email or sms")


def _utm(spec: MessageSpec, channel: str) -> dict[str, str]:
    utm: dict[str, str] = {}
    if spec.preset:
        preset = PRESETS.get(spec.preset)
        if preset is None:
            raise InvalidInput(
                f"unknown preset {spec.preset!r}", hint="see `tagtrail presets` for the names"
            )
        utm = {"source": preset.source, "medium": preset.medium}
    if spec.source:
        utm["source"] = spec.source
    if spec.medium:
        utm["medium"] = spec.medium
    utm.setdefault("medium", channel)
    return utm


def _campaign_id(conn: Connection, workspace_id: int, name: str) -> int:
    found = conn.execute(
        select(campaigns.c.id).where(
            campaigns.c.workspace_id == workspace_id, campaigns.c.name == name.strip()
        )
    ).scalar()
    if found is None:
        raise NotFound(
            f"no campaign named {name!r}",
            hint="create it first (POST /api/campaigns, or a link with --campaign)",
        )
    return int(found)


def _found_json(found: FoundLink) -> dict[str, Any]:
    return {
        "position": found.position,
        "url": found.url,
        "text": found.text,
        "start": found.start,
        "end": found.end,
        "reason": found.reason,
    }
