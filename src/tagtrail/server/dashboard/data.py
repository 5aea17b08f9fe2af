"""What the dashboard and the report show, read from the store: clicks per day, per link and per
campaign (SQL aggregates), and conversions from the collected journeys (`insights.py`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from tagtrail.errors import InvalidInput
from tagtrail.store.schema import campaigns, clicks, links


@dataclass(frozen=True, slots=True)
class Window:
    """A period (whole UTC days, both ends included) and an optional campaign."""

    start: date | None = None
    end: date | None = None
    campaign: str | None = None

    def contains(self, when: datetime) -> bool:
        day = when.date()
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def describe(self) -> str:
        span = f"{self.start or 'the start'} to {self.end or 'today'}"
        return span + (f", campaign {self.campaign}" if self.campaign else "")


def parse_window(start: str | None, end: str | None, campaign: str | None) -> Window:
    """Form or CLI values → a Window; InvalidInput names the bad field."""

    def day(text: str | None, name: str) -> date | None:
        if not text or not text.strip():
            return None
        try:
            return date.fromisoformat(text.strip()[:10])
        except ValueError:
            raise InvalidInput(
                f"{name}: {text!r} is not a date", hint="write it as YYYY-MM-DD"
            ) from None

    window = Window(day(start, "from"), day(end, "to"), (campaign or "").strip() or None)
    if window.start and window.end and window.start > window.end:
        raise InvalidInput("from is after to", hint="swap the two dates")
    return window


def _click_filter(workspace_id: int, window: Window) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [links.c.workspace_id == workspace_id]
    if window.start is not None:
        where.append(clicks.c.clicked_at >= datetime.combine(window.start, time()))
    if window.end is not None:
        where.append(clicks.c.clicked_at < datetime.combine(window.end + timedelta(1), time()))
    if window.campaign is not None:
        where.append(
            links.c.campaign_id.in_(
                select(campaigns.c.id).where(
                    campaigns.c.workspace_id == workspace_id, campaigns.c.name == window.campaign
                )
            )
        )
    return where


_HUMAN = case((clicks.c.is_bot.is_(False), 1), else_=0)
_BOT = case((clicks.c.is_bot.is_(True), 1), else_=0)
_WHO = func.coalesce(func.cast(clicks.c.recipient_id, clicks.c.visitor.type), clicks.c.visitor)
_UNIQUE = func.count(func.distinct(case((clicks.c.is_bot.is_(False), _WHO), else_=None)))
_DAY = func.substr(func.cast(clicks.c.clicked_at, clicks.c.visitor.type), 1, 10)


def daily_clicks(engine: Engine, workspace_id: int, window: Window) -> list[dict[str, Any]]:
    """`[{"day", "human", "bot"}]`, one per day with a click."""
    query = (
        select(_DAY.label("day"), func.sum(_HUMAN), func.sum(_BOT))
        .select_from(clicks.join(links, links.c.id == clicks.c.link_id))
        .where(*_click_filter(workspace_id, window))
        .group_by(_DAY)
        .order_by(_DAY)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [{"day": str(d), "human": int(h or 0), "bot": int(b or 0)} for d, h, b in rows]


def _click_counts(key: Any, name: str, workspace_id: int, window: Window) -> Any:
    """Clicks in the window grouped by `key` (labelled `name`): total, human, bot, unique."""
    return (
        select(
            key.label(name),
            func.count().label("total"),
            func.sum(_HUMAN).label("human"),
            func.sum(_BOT).label("bot"),
            _UNIQUE.label("unique"),
        )
        .select_from(clicks.join(links, links.c.id == clicks.c.link_id))
        .where(*_click_filter(workspace_id, window))
        .group_by(key)
        .subquery()
    )


def link_table(
    engine: Engine, workspace_id: int, window: Window, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Every link (most clicked first, at most `limit`) with its click counts in the window."""
    counts = _click_counts(clicks.c.link_id, "link_id", workspace_id, window)
    total = func.coalesce(counts.c.total, 0)
    query = (
        select(
            links.c.code,
            links.c.destination,
            links.c.utm,
            links.c.disabled,
            campaigns.c.name,
            total,
            counts.c.human,
            counts.c.bot,
            counts.c.unique,
        )
        .select_from(
            links.outerjoin(counts, counts.c.link_id == links.c.id).outerjoin(
                campaigns, campaigns.c.id == links.c.campaign_id
            )
        )
        .where(links.c.workspace_id == workspace_id)
        .order_by(total.desc(), links.c.code)
        .limit(limit)
    )
    if window.campaign is not None:
        query = query.where(campaigns.c.name == window.campaign)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "code": r.code,
            "destination": r.destination,
            "utm": json.loads(r.utm or "{}"),
            "disabled": bool(r.disabled),
            "campaign": r.name,
            "total": int(r[5] or 0),
            "human": int(r.human or 0),
            "bot": int(r.bot or 0),
            "unique": int(r.unique or 0),
        }
        for r in rows
    ]


def campaign_table(engine: Engine, workspace_id: int, window: Window) -> list[dict[str, Any]]:
    """Every campaign with its links' clicks in the window (unique counted per campaign)."""
    counts = _click_counts(links.c.campaign_id, "campaign_id", workspace_id, window)
    n_links = (
        select(func.count())
        .where(links.c.campaign_id == campaigns.c.id)
        .correlate(campaigns)
        .scalar_subquery()
    )
    query = (
        select(campaigns.c.name, n_links, counts.c.total, counts.c.human, counts.c.bot)
        .add_columns(counts.c.unique)
        .select_from(campaigns.outerjoin(counts, counts.c.campaign_id == campaigns.c.id))
        .where(campaigns.c.workspace_id == workspace_id)
        .order_by(func.coalesce(counts.c.total, 0).desc(), campaigns.c.name)
    )
    if window.campaign is not None:
        query = query.where(campaigns.c.name == window.campaign)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "campaign": r.name,
            "links": int(r[1] or 0),
            "total": int(r.total or 0),
            "human": int(r.human or 0),
            "bot": int(r.bot or 0),
            "unique": int(r.unique or 0),
        }
        for r in rows
    ]


def campaign_names(engine: Engine, workspace_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(campaigns.c.name)
                .where(campaigns.c.workspace_id == workspace_id)
                .order_by(campaigns.c.name)
            ).scalars()
        )
