"""Click statistics per link and per campaign: total, human, bot, unique, by day, by recipient."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, case, func, select

from tagtrail.errors import NotFound
from tagtrail.service.recipients import label, recipient_key
from tagtrail.store.schema import campaigns, clicks, links, recipients


def link_stats(engine: Engine, code: str, *, workspace_id: int | None = None) -> dict[str, Any]:
    """`{"total", "human", "bot", "unique", "recipients": [...], "by_day": [...]}` for a link."""
    query = select(links.c.id).where(links.c.code == code)
    if workspace_id is not None:
        query = query.where(links.c.workspace_id == workspace_id)
    with engine.connect() as conn:
        link_id = conn.execute(query).scalar()
    if link_id is None:
        raise NotFound(f"no link with code {code!r}", hint="see `tagtrail links list`")
    return {"code": code, **_stats(engine, clicks.c.link_id == link_id)}


def campaign_stats(engine: Engine, workspace_id: int, name: str) -> dict[str, Any]:
    """The same figures over every link of a campaign."""
    with engine.connect() as conn:
        campaign_id = conn.execute(
            select(campaigns.c.id).where(
                campaigns.c.workspace_id == workspace_id, campaigns.c.name == name
            )
        ).scalar()
    if campaign_id is None:
        raise NotFound(f"no campaign named {name!r}")
    in_campaign = clicks.c.link_id.in_(select(links.c.id).where(links.c.campaign_id == campaign_id))
    return {"campaign": name, **_stats(engine, in_campaign)}


def recipient_stats(
    engine: Engine, workspace_id: int, recipient: str, *, secret: bytes
) -> dict[str, Any]:
    """One recipient's clicks (an email address is looked up by its keyed hash), per link."""
    kind, key = recipient_key(recipient, secret)
    with engine.connect() as conn:
        recipient_id = conn.execute(
            select(recipients.c.id).where(
                recipients.c.workspace_id == workspace_id,
                recipients.c.kind == kind,
                recipients.c.key == key,
            )
        ).scalar()
        if recipient_id is None:
            raise NotFound("no clicks or sends are known for that recipient")
        human = case((clicks.c.is_bot.is_(False), 1), else_=0)
        per_link = conn.execute(
            select(links.c.code, func.count(), func.sum(human), func.max(clicks.c.clicked_at))
            .join(links, links.c.id == clicks.c.link_id)
            .where(clicks.c.recipient_id == recipient_id)
            .group_by(links.c.code)
            .order_by(func.count().desc(), links.c.code)
        ).all()
    return {
        "recipient": label(kind, key),
        "total": sum(int(n) for _, n, _, _ in per_link),
        "human": sum(int(h or 0) for _, _, h, _ in per_link),
        "links": [
            {"code": code, "clicks": int(n), "human": int(h or 0), "last": last.isoformat()}
            for code, n, h, last in per_link
        ],
    }


def _stats(engine: Engine, where: Any) -> dict[str, Any]:
    human = case((clicks.c.is_bot.is_(False), 1), else_=0)
    bot = case((clicks.c.is_bot.is_(True), 1), else_=0)
    who = func.coalesce(func.cast(clicks.c.recipient_id, clicks.c.visitor.type), clicks.c.visitor)
    day = func.substr(func.cast(clicks.c.clicked_at, clicks.c.visitor.type), 1, 10)
    with engine.connect() as conn:
        total, humans, bots = conn.execute(
            select(
                func.count(), func.coalesce(func.sum(human), 0), func.coalesce(func.sum(bot), 0)
            ).where(where)
        ).one()
        unique = conn.execute(
            select(func.count(func.distinct(who))).where(where, clicks.c.is_bot.is_(False))
        ).scalar_one()
        by_day = conn.execute(
            select(day.label("day"), func.count(), func.sum(human), func.sum(bot))
            .where(where)
            .group_by(day)
            .order_by(day)
        ).all()
        people = conn.execute(
            select(recipients.c.kind, recipients.c.key, func.count(), func.sum(human))
            .join(recipients, recipients.c.id == clicks.c.recipient_id)
            .where(where)
            .group_by(recipients.c.kind, recipients.c.key)
            .order_by(func.count().desc(), recipients.c.key)
        ).all()
    return {
        "total": int(total),
        "human": int(humans),
        "bot": int(bots),
        "unique": int(unique),
        "recipients": [
            {"recipient": label(kind, key), "clicks": int(n), "human": int(h or 0)}
            for kind, key, n, h in people
        ],
        "by_day": [
            {"day": d, "total": int(n), "human": int(h or 0), "bot": int(b or 0)}
            for d, n, h, b in by_day
        ],
    }
