"""What the dashboard and the report show, read from the store: clicks per day, per link and per
campaign (SQL over the click rollups of `tagtrail.store.rollups`, folded up to the last committed
click first, so they equal direct counts), and conversions from the collected journeys
(`insights.py`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Table, and_, case, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from tagtrail.errors import InvalidInput
from tagtrail.service.campaigns import campaign_key
from tagtrail.store.rollups import changes_in, fold
from tagtrail.store.schema import (
    campaign_uniques,
    campaign_visitors,
    campaigns,
    click_days,
    clicks,
    link_uniques,
    link_visitors,
    links,
    settings_versions,
)


@dataclass(frozen=True, slots=True)
class Window:
    """A period (whole UTC days, both ends included), an optional campaign, and the goal the
    model comparison attributes (None: the goal with revenue)."""

    start: date | None = None
    end: date | None = None
    campaign: str | None = None
    goal: str | None = None

    def contains(self, when: datetime) -> bool:
        day = when.date()
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def describe(self) -> str:
        span = f"{self.start or 'the start'} to {self.end or 'today'}"
        return span + (f", campaign {self.campaign}" if self.campaign else "")


def parse_window(
    start: str | None, end: str | None, campaign: str | None, goal: str | None = None
) -> Window:
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

    window = Window(
        day(start, "from"),
        day(end, "to"),
        (campaign or "").strip() or None,
        (goal or "").strip() or None,
    )
    if window.start and window.end and window.start > window.end:
        raise InvalidInput("from is after to", hint="swap the two dates")
    return window


def _link_filter(workspace_id: int, window: Window) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [links.c.workspace_id == workspace_id]
    if window.campaign is not None:
        where.append(
            links.c.campaign_id.in_(
                select(campaigns.c.id).where(
                    campaigns.c.workspace_id == workspace_id, campaigns.c.name == window.campaign
                )
            )
        )
    return where


def _days(workspace_id: int, window: Window) -> list[ColumnElement[bool]]:
    where = _link_filter(workspace_id, window)
    if window.start is not None:
        where.append(click_days.c.day >= window.start.isoformat())
    if window.end is not None:
        where.append(click_days.c.day <= window.end.isoformat())
    return where


_TOTAL = func.sum(click_days.c.human + click_days.c.bot)


def _clicked_inside(spanning: Any, key: str, window: Window) -> Any:
    """A human click inside the window by the row's visitor on the row's owner: looked up by
    recipient (indexed), or by visitor hash (daily, so never spanning a window in practice)."""
    if key == "link_id":
        same_owner = clicks.c.link_id == spanning.c.link_id
    else:
        of_campaign = select(links.c.id).where(links.c.campaign_id == spanning.c.campaign_id)
        same_owner = clicks.c.link_id.in_(of_campaign.correlate(spanning))
    inside = [same_owner, clicks.c.is_bot.is_(False)]
    if window.start is not None:
        inside.append(clicks.c.clicked_at >= datetime.combine(window.start, time()))
    if window.end is not None:
        inside.append(clicks.c.clicked_at < datetime.combine(window.end + timedelta(1), time()))
    rid = spanning.c.recipient_id
    return or_(
        and_(rid.is_not(None), exists().where(clicks.c.recipient_id == rid, *inside)),
        and_(
            rid.is_(None),
            exists().where(
                clicks.c.recipient_id.is_(None), clicks.c.visitor == spanning.c.who, *inside
            ),
        ),
    )


def daily_clicks(engine: Engine, workspace_id: int, window: Window) -> list[dict[str, Any]]:
    """`[{"day", "human", "bot"}]`, one per day with a click."""
    fold(engine)
    day = click_days.c.day
    query = (
        select(day, func.sum(click_days.c.human), func.sum(click_days.c.bot))
        .select_from(click_days.join(links, links.c.id == click_days.c.link_id))
        .where(*_days(workspace_id, window))
        .group_by(day)
        .order_by(day)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [{"day": str(d), "human": int(h or 0), "bot": int(b or 0)} for d, h, b in rows]


def _counts(key: Any, workspace_id: int, window: Window) -> Any:
    """Clicks in the window per `key` (a column of links): total, human, bot."""
    return (
        select(
            key.label("key"),
            _TOTAL.label("total"),
            func.sum(click_days.c.human).label("human"),
            func.sum(click_days.c.bot).label("bot"),
        )
        .select_from(click_days.join(links, links.c.id == click_days.c.link_id))
        .where(*_days(workspace_id, window))
        .group_by(key)
        .subquery()
    )


_Memo = dict[tuple[Any, ...], tuple[tuple[Any, ...], list[dict[str, Any]]]]
_MEMO: WeakKeyDictionary[Engine, _Memo] = WeakKeyDictionary()
_MEMO_SIZE = 64
_MEMO_LOCK = threading.Lock()


def _memo(
    engine: Engine, key: tuple[Any, ...], window: Window, read: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """`read()`, kept while nothing it counts can have changed: the links version (any change
    to a link, campaign or workspace) and the rows of `click_days` in the window (how many,
    and the last change among them) are the same. The clicks are folded first."""
    fold(engine)
    start = window.start.isoformat() if window.start else None
    end = window.end.isoformat() if window.end else None
    with engine.connect() as conn:
        version = conn.execute(
            select(settings_versions.c.version).where(settings_versions.c.name == "links")
        ).scalar_one()
        stamp = (int(version), *changes_in(conn, start, end))
    with _MEMO_LOCK:
        memo = _MEMO.setdefault(engine, {})
        hit = memo.get((*key, window))
    if hit is not None and hit[0] == stamp:
        return [dict(row) for row in hit[1]]
    rows = read()
    with _MEMO_LOCK:
        if len(memo) >= _MEMO_SIZE:
            memo.pop(next(iter(memo)))
        memo[(*key, window)] = (stamp, rows)
    return [dict(row) for row in rows]


def _unique(visitors: Table, uniques: Table, key: str, window: Window) -> Any:
    """(owner id, unique) per owner: the kept count for all time; for a window, the rows whose
    first or last day is in it, plus those that clicked before and after it and clicked inside
    it too (`_clicked_inside`), among the owners with a human click in it."""
    if window.start is None and window.end is None:
        return select(uniques.c[key], uniques.c.visitors.label("unique")).subquery()
    first, last = visitors.c.first_day, visitors.c.last_day
    start = window.start.isoformat() if window.start else "0000-01-01"
    end = window.end.isoformat() if window.end else "9999-12-31"
    # only owners with a human click in the window can have a visitor in it
    owner = click_days.c.link_id if key == "link_id" else links.c.campaign_id
    active = (
        select(owner)
        .select_from(click_days.join(links, links.c.id == click_days.c.link_id))
        .where(click_days.c.day.between(start, end), click_days.c.human > 0)
        .distinct()
    )
    overlapping = [visitors.c[key].in_(active), first <= end, last >= start]
    # a row overlapping the window has a human click in it if its first or last day is in it;
    # else it spans the window and is looked up (the CASE only evaluates that for those)
    counted = case(
        (or_(first >= start, last <= end), 1),
        (_clicked_inside(visitors, key, window), 1),
        else_=0,
    )
    return (
        select(visitors.c[key], func.sum(counted).label("unique"))
        .where(*overlapping)
        .group_by(visitors.c[key])
        .subquery()
    )


def _connect(engine: Engine) -> Connection:
    """A connection for the tables' queries; PostgreSQL's JIT is off for them (their
    correlated lookups make the planner's costs huge, and compiling took longer than running)."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
    return conn


def link_table(
    engine: Engine, workspace_id: int, window: Window, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Every link (most clicked first, at most `limit`) with its click counts in the window."""
    read = lambda: _link_table(engine, workspace_id, window, limit)  # noqa: E731
    return _memo(engine, ("links", workspace_id, limit), window, read)


def _link_table(
    engine: Engine, workspace_id: int, window: Window, limit: int
) -> list[dict[str, Any]]:
    counts = _counts(click_days.c.link_id, workspace_id, window)
    v = link_visitors
    unique = _unique(v, link_uniques, "link_id", window)
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
            unique.c.unique,
        )
        .select_from(
            links.outerjoin(counts, counts.c.key == links.c.id)
            .outerjoin(unique, unique.c.link_id == links.c.id)
            .outerjoin(campaigns, campaigns.c.id == links.c.campaign_id)
        )
        .where(links.c.workspace_id == workspace_id)
        .order_by(total.desc(), links.c.code)
        .limit(limit)
    )
    if window.campaign is not None:
        query = query.where(campaigns.c.name == window.campaign)
    with _connect(engine) as conn:
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
    read = lambda: _campaign_table(engine, workspace_id, window)  # noqa: E731
    return _memo(engine, ("campaigns", workspace_id), window, read)


def _campaign_table(engine: Engine, workspace_id: int, window: Window) -> list[dict[str, Any]]:
    counts = _counts(links.c.campaign_id, workspace_id, window)
    v = campaign_visitors
    unique = _unique(v, campaign_uniques, "campaign_id", window)
    n_links = (
        select(func.count())
        .where(links.c.campaign_id == campaigns.c.id)
        .correlate(campaigns)
        .scalar_subquery()
    )
    query = (
        select(campaigns.c.name, n_links, counts.c.total, counts.c.human, counts.c.bot)
        .add_columns(unique.c.unique, campaigns.c.default_utm)
        .select_from(
            campaigns.outerjoin(counts, counts.c.key == campaigns.c.id).outerjoin(
                unique, unique.c.campaign_id == campaigns.c.id
            )
        )
        .where(campaigns.c.workspace_id == workspace_id)
        .order_by(func.coalesce(counts.c.total, 0).desc(), campaigns.c.name)
    )
    if window.campaign is not None:
        query = query.where(campaigns.c.name == window.campaign)
    with _connect(engine) as conn:
        rows = conn.execute(query).all()
    return [
        {
            "campaign": r.name,
            "key": campaign_key(r.name, json.loads(r.default_utm or "{}")),
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
