"""Click rollups for the dashboard, kept equal to direct counts over `clicks`.

- `click_days`: human and bot clicks per link and UTC day (a window of days sums its rows);
- `link_visitors`, `campaign_visitors`: each (link or campaign, who) with a human click, with the
  first and last day of one (who: the recipient id, else the visitor hash). The unique clicks of
  a window are the pairs whose first or last day falls in it, plus those that clicked before and
  after it and are found in `clicks` inside it (`tagtrail.service.reports`);
- `link_uniques`, `campaign_uniques`: how many pairs each has (the unique clicks of all time);
- `click_days.changed`: the value of the change counter (`rollup_marks` row `changes`, one step
  per fold or fix) when the row last changed, so a reader can tell whether a period's figures
  can have changed (`changes_in`).

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
        f"INSERT INTO click_days (link_id, day, human, bot, changed) SELECT c.link_id, {DAY}, "
        f"{_HUMAN}, {_BOT}, :change FROM clicks c WHERE {where} GROUP BY c.link_id, {DAY} "
        "ON CONFLICT (link_id, day) DO UPDATE SET human = click_days.human + excluded.human, "
        "bot = click_days.bot + excluded.bot, changed = excluded.changed"
    )


def _owner(owner: str) -> tuple[str, str, str]:
    """(the owner's column in `clicks c` / `links l`, the join it needs, its filter)."""
    if owner == "link":
        return "c.link_id", "", ""
    return "l.campaign_id", " JOIN links l ON l.id = c.link_id", " AND l.campaign_id IS NOT NULL"


def _visitors_sql(dialect: str, owner: str, where: str) -> str:
    """Upsert (owner, who, first day, last day) of the human clicks `where` into the owner's
    table (`link` or `campaign`)."""
    least, greatest = ("min", "max") if dialect == "sqlite" else ("LEAST", "GREATEST")
    table, key = f"{owner}_visitors", f"{owner}_id"
    source, join, extra = _owner(owner)
    return (
        f"INSERT INTO {table} ({key}, who, recipient_id, first_day, last_day) "
        f"SELECT {source}, {WHO}, max(c.recipient_id), min({DAY}), max({DAY}) "
        f"FROM clicks c{join} WHERE {where} AND NOT c.is_bot{extra} "
        f"GROUP BY {source}, {WHO} ON CONFLICT ({key}, who) DO UPDATE SET "
        f"first_day = {least}({table}.first_day, excluded.first_day), "
        f"last_day = {greatest}({table}.last_day, excluded.last_day)"
    )


def _uniques_sql(owner: str, owners: str) -> str:
    """Count the visitors of the owners selected by `owners` (SQL giving their ids) again."""
    key = f"{owner}_id"
    return (
        f"INSERT INTO {owner}_uniques ({key}, visitors) SELECT v.{key}, count(*) "
        f"FROM {owner}_visitors v WHERE v.{key} IN ({owners}) GROUP BY v.{key} "
        f"ON CONFLICT ({key}) DO UPDATE SET visitors = excluded.visitors"
    )


def _new_visitors_sql(owner: str, where: str) -> str:
    """Add to each owner's count the visitors among the human clicks `where` that it does not
    have yet (run before they are added)."""
    key = f"{owner}_id"
    source, join, extra = _owner(owner)
    return (
        f"INSERT INTO {owner}_uniques ({key}, visitors) SELECT n.o, count(*) FROM "
        f"(SELECT DISTINCT {source} AS o, {WHO} AS w FROM clicks c{join} "
        f"WHERE {where} AND NOT c.is_bot{extra}) n WHERE NOT EXISTS (SELECT 1 FROM "
        f"{owner}_visitors v WHERE v.{key} = n.o AND v.who = n.w) GROUP BY n.o "
        f"ON CONFLICT ({key}) DO UPDATE SET visitors = {owner}_uniques.visitors + "
        "excluded.visitors"
    )


def _add(conn: Connection, where: str, params: dict[str, Any]) -> None:
    dialect = conn.dialect.name
    params = {**params, "change": _next_change(conn)}
    conn.execute(text(_days_sql(where)), params)
    for owner in ("link", "campaign"):
        conn.execute(text(_new_visitors_sql(owner, where)), params)
        conn.execute(text(_visitors_sql(dialect, owner, where)), params)


def _next_change(conn: Connection) -> int:
    conn.execute(text("UPDATE rollup_marks SET mark = mark + 1 WHERE name = 'changes'"))
    return int(conn.execute(text("SELECT mark FROM rollup_marks WHERE name = 'changes'")).one()[0])


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
    change = _next_change(conn)
    for link_id, day in keys.days:
        params = {"l": link_id, "d": day, "m": mark, "change": change}
        conn.execute(text("DELETE FROM click_days WHERE link_id = :l AND day = :d"), params)
        conn.execute(text(_days_sql(f"c.link_id = :l AND {DAY} = :d AND c.id <= :m")), params)
    for owner, pairs, match in (
        ("link", keys.links, "c.link_id = :o"),
        ("campaign", keys.campaigns, "l.campaign_id = :o"),
    ):
        for owner_id, who in pairs:
            params = {"o": owner_id, "w": who, "m": mark}
            conn.execute(
                text(f"DELETE FROM {owner}_visitors WHERE {owner}_id = :o AND who = :w"), params
            )
            where = f"{match} AND {WHO} = :w AND c.id <= :m"
            conn.execute(text(_visitors_sql(conn.dialect.name, owner, where)), params)
        _recount_uniques(conn, owner, {owner_id for owner_id, _ in pairs})


def _recount_uniques(conn: Connection, owner: str, ids: set[int]) -> None:
    for first in range(0, len(ids), 500):
        params = {f"o{n}": v for n, v in enumerate(sorted(ids)[first : first + 500])}
        owners = ", ".join(":" + k for k in params)
        conn.execute(text(f"DELETE FROM {owner}_uniques WHERE {owner}_id IN ({owners})"), params)
        conn.execute(text(_uniques_sql(owner, owners)), params)


def forget_link(conn: Connection, link_id: int, campaign_id: int | None) -> None:
    """A link and its clicks were deleted: drop its rows, count its campaign again, and bring
    the mark down to the largest click id left (SQLite hands a deleted largest id out again)."""
    _lock_mark(conn)
    for table in ("click_days", "link_visitors", "link_uniques"):
        conn.execute(text(f"DELETE FROM {table} WHERE link_id = :l"), {"l": link_id})
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
    _recount_uniques(conn, "campaign", {campaign_id})


def changes_in(conn: Connection, start: str | None, end: str | None) -> tuple[int, int]:
    """(rows, last change) of `click_days` in the days from `start` to `end` (both included)."""
    where = ["day >= :s"] if start else []
    where += ["day <= :e"] if end else []
    sql = "SELECT count(*), coalesce(max(changed), 0) FROM click_days"
    row = conn.execute(
        text(sql + (" WHERE " + " AND ".join(where) if where else "")), {"s": start, "e": end}
    ).one()
    return int(row[0]), int(row[1])


def bump_journeys(conn: Connection) -> None:
    """Collected rows were removed: the dashboard's figures are computed again."""
    conn.execute(text("UPDATE settings_versions SET version = version + 1 WHERE name = 'journeys'"))
