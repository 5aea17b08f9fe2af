"""Click rows after the fact: re-flagging the earlier clicks of a burst."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, case, or_, select, update

from tagtrail.store import rollups
from tagtrail.store.schema import clicks, links


def flag_burst(
    engine: Engine,
    *,
    campaign_id: int | None,
    recipient_id: int | None,
    visitor: str,
    since: datetime,
) -> int:
    """Mark as bots the human clicks of one visitor (a recipient, or an anonymous visitor hash)
    on links of one message since `since`: the earlier clicks of a burst that has just been
    recognised at its last click (research rule B4). Their touchpoints go too: only a human
    click is a touchpoint (its `url` is cleared, as a bot click has none), and the journeys
    version is bumped so the dashboard reloads. Returns how many clicks changed."""
    of_message = select(links.c.id).where(
        links.c.campaign_id.is_(None) if campaign_id is None else links.c.campaign_id == campaign_id
    )
    who = (
        clicks.c.recipient_id == recipient_id
        if recipient_id is not None
        else and_(clicks.c.recipient_id.is_(None), clicks.c.visitor == visitor)
    )
    reasons = case((clicks.c.bot_reasons == "", "burst"), else_=clicks.c.bot_reasons + " burst")
    with engine.begin() as conn:
        found = conn.execute(
            select(clicks.c.id).where(
                clicks.c.is_bot.is_(False),
                clicks.c.clicked_at >= since,
                clicks.c.link_id.in_(of_message),
                or_(who),
            )
        ).all()
        if not found:
            return 0
        ids = [row.id for row in found]
        keys = rollups.affected(conn, ids)
        conn.execute(
            update(clicks)
            .where(clicks.c.id.in_(ids))
            .values(is_bot=True, bot_reasons=reasons, url=None)
        )
        rollups.recount(conn, keys)
        rollups.bump_journeys(conn)
    return len(found)
