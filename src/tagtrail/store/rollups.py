"""Click rollups for the dashboard, kept equal to direct counts over `clicks`.

- `click_days`: human and bot clicks per link and UTC day (a window of days sums its rows);
- `link_visitors`, `campaign_visitors`: each (link or campaign, who) with a human click, with the
  first and last day of one (who: the recipient id, else the visitor hash). The unique clicks of
  a window are the pairs whose first or last day falls in it, plus those that clicked before and
  after it and are found in `clicks` inside it (`tagtrail.server.dashboard.data`).

`fold(engine)` adds the clicks committed since `rollup_marks.mark` (a range of the primary key)
and moves the mark; readers call it first, so a click is counted on the next page view. On
PostgreSQL ids can commit out of order (two server workers): the upper bound is read under
`LOCK TABLE clicks IN SHARE MODE`, which waits for the inserts in flight, so every id up to it
is committed when it is folded. SQLite has one writer at a time, so its ids commit in order.

Folded clicks change in three places, each of which fixes the rollups in its own transaction:
a burst re-flagged as bots (`affected` before, `recount` after), a deleted link (`forget_link`),
a link moved to another campaign (`rebuild_campaign`). Folds and fixes serialise on the mark's
row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

WHO = "coalesce(cast(c.recipient_id as text), c.visitor)"
DAY = "substr(cast(c.clicked_at as text), 1, 10)"
_HUMAN = "sum(CASE WHEN c.is_bot THEN 0 ELSE 1 END)"
_BOT = "sum(CASE WHEN c.is_bot THEN 1 ELSE 0 END)"


def _days_sql(where: str) -> str:
    return (
        f"INSERT INTO click_days (link_id, day, human, bot) SELECT c.link_id, {DAY}, {_HUMAN}, "
        f"{_BOT} FROM clicks c WHERE {where} GROUP BY c.link_id, {DAY} "
        "ON CONFLICT (link_id, day) DO UPDATE SET human = click_days.human + excluded.human, "
        "bot = click_days.bot + excluded.bot"
    )


def _visitors_sql(dialect: str, owner: str, where: str) -> str:
    """Upsert (owner, who, first day, last day) of the human clicks `where` into the owner's
    table (`link` or `campaign`)."""
    least, greatest = ("min", "max") if dialect == "sqlite" else ("LEAST", "GREATEST")
    table, key = f"{owner}_visitors", f"{owner}_id"
    source = "c.link_id" if owner == "link" else "l.campaign_id"
    join = "" if owner == "link" else " JOIN links l ON l.id = c.link_id"
    extra = "" if owner == "link" else " AND l.campaign_id IS NOT NULL"
    return (
        f"INSERT INTO {table} ({key}, who, first_day, last_day) SELECT {source}, {WHO}, "
        f"min({DAY}), max({DAY}) FROM clicks c{join} WHERE {where} AND NOT c.is_bot{extra} "
        f"GROUP BY {source}, {WHO} ON CONFLICT ({key}, who) DO UPDATE SET "
        f"first_day = {least}({table}.first_day, excluded.first_day), "
        f"last_day = {greatest}({table}.last_day, excluded.last_day)"
    )


def _add(conn: Connection, where: str, params: dict[str, Any]) -> None:
    dialect = conn.dialect.name
    conn.execute(text(_days_sql(where)), params)
    conn.execute(text(_visitors_sql(dialect, "link", where)), params)
    conn.execute(text(_visitors_sql(dialect, "campaign", where)), params)


def _lock_mark(conn: Connection) -> int:
    """Take the mark's row (PostgreSQL) or the write lock (SQLite); the mark."""
    conn.execute(text("UPDATE rollup_marks SET mark = mark WHERE name = 'clicks'"))
    return int(conn.execute(text("SELECT mark FROM rollup_marks WHERE name = 'clicks'")).one()[0])


def _top(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM clicks")).one()[0])


def fold(engine: Engine) -> int:
    """Fold the clicks committed since the mark into the rollups; how many ids it passed."""
    with engine.connect() as conn:
        mark = conn.execute(text("SELECT mark FROM rollup_marks WHERE name = 'clicks'")).one()[0]
        if _top(conn) <= int(mark):
            return 0
    settled = None
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE clicks IN SHARE MODE"))
            settled = _top(conn)
    with engine.begin() as conn:
        mark = _lock_mark(conn)
        top = _top(conn) if settled is None else settled
        if top <= mark:
            return 0
        _add(conn, "c.id > :lo AND c.id <= :hi", {"lo": mark, "hi": top})
        conn.execute(text("UPDATE rollup_marks SET mark = :m WHERE name = 'clicks'"), {"m": top})
    return top - mark


@dataclass(slots=True)
class Keys:
    """The rollup rows some folded clicks count in."""

    days: set[tuple[int, str]] = field(default_factory=set)
    links: set[tuple[int, str]] = field(default_factory=set)
    campaigns: set[tuple[int, str]] = field(default_factory=set)


def affected(conn: Connection, ids: list[int]) -> Keys:
    """The rollup rows of the folded clicks among `ids` (read before they change)."""
    keys = Keys()
    if not ids:
        return keys
    mark = _lock_mark(conn)
    folded = [i for i in ids if i <= mark]
    for first in range(0, len(folded), 500):
        params = {f"i{n}": v for n, v in enumerate(folded[first : first + 500])}
        where = f"c.id IN ({', '.join(':' + k for k in params)})"
        rows = conn.execute(
            text(
                f"SELECT c.link_id, {DAY}, {WHO}, l.campaign_id FROM clicks c "
                f"JOIN links l ON l.id = c.link_id WHERE {where}"
            ),
            params,
        ).all()
        for link_id, day, who, campaign_id in rows:
            keys.days.add((int(link_id), str(day)))
            keys.links.add((int(link_id), str(who)))
            if campaign_id is not None:
                keys.campaigns.add((int(campaign_id), str(who)))
    return keys


def recount(conn: Connection, keys: Keys) -> None:
    """Count the rows `keys` names again from the folded clicks (after they changed)."""
    if not (keys.days or keys.links or keys.campaigns):
        return
    mark = _lock_mark(conn)
    for link_id, day in keys.days:
        params = {"l": link_id, "d": day, "m": mark}
        conn.execute(text("DELETE FROM click_days WHERE link_id = :l AND day = :d"), params)
        conn.execute(text(_days_sql(f"c.link_id = :l AND {DAY} = :d AND c.id <= :m")), params)
    for link_id, who in keys.links:
        params = {"l": link_id, "w": who, "m": mark}
        conn.execute(text("DELETE FROM link_visitors WHERE link_id = :l AND who = :w"), params)
        where = f"c.link_id = :l AND {WHO} = :w AND c.id <= :m"
        conn.execute(text(_visitors_sql(conn.dialect.name, "link", where)), params)
    for campaign_id, who in keys.campaigns:
        params = {"c": campaign_id, "w": who, "m": mark}
        conn.execute(
            text("DELETE FROM campaign_visitors WHERE campaign_id = :c AND who = :w"), params
        )
        where = f"l.campaign_id = :c AND {WHO} = :w AND c.id <= :m"
        conn.execute(text(_visitors_sql(conn.dialect.name, "campaign", where)), params)


def forget_link(conn: Connection, link_id: int, campaign_id: int | None) -> None:
    """A link and its clicks were deleted: drop its rows, count its campaign again, and bring
    the mark down to the largest click id left (SQLite hands a deleted largest id out again)."""
    _lock_mark(conn)
    conn.execute(text("DELETE FROM click_days WHERE link_id = :l"), {"l": link_id})
    conn.execute(text("DELETE FROM link_visitors WHERE link_id = :l"), {"l": link_id})
    rebuild_campaign(conn, campaign_id)
    conn.execute(
        text("UPDATE rollup_marks SET mark = :top WHERE name = 'clicks' AND mark > :top"),
        {"top": _top(conn)},
    )


def rebuild_campaign(conn: Connection, campaign_id: int | None) -> None:
    """Count a campaign's visitors again from its links' folded clicks."""
    if campaign_id is None:
        return
    mark = _lock_mark(conn)
    params = {"c": campaign_id, "m": mark}
    conn.execute(text("DELETE FROM campaign_visitors WHERE campaign_id = :c"), params)
    where = "l.campaign_id = :c AND c.id <= :m"
    conn.execute(text(_visitors_sql(conn.dialect.name, "campaign", where)), params)


def bump_journeys(conn: Connection) -> None:
    """Collected rows were removed: the dashboard's journeys snapshot must reload."""
    conn.execute(text("UPDATE settings_versions SET version = version + 1 WHERE name = 'journeys'"))
