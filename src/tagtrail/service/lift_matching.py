"""The store's side of the lift: a campaign's sends and its recipients' goal conversions, loaded
into DuckDB's `lift_sends` and `lift_conversions` (docs/lift.md, "Matching").

A recipient is matched to the people of the collected events in two ways:

- a `user` recipient (sent to a user id) is the user with that `userId`;
- an `email` (or `phone`) recipient is stored as a keyed hash only; an identify call whose
  `traits.email` (or `traits.phone`) gives the same keyed hash (`recipients.recipient_key`,
  computed here, never stored in clear) names its user.

A goal conversion belongs to its event's `userId`, or, without one, to the user its
`anonymousId` was first identified as. Recipients with no such user are counted as unmatched:
their outcome is "did not convert", which dilutes both groups alike.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
from sqlalchemy import Engine, case, func, select

from tagtrail.collect import Goal, NormalizedEvent, conversion_for
from tagtrail.errors import InvalidInput
from tagtrail.service.recipients import recipient_key
from tagtrail.store.schema import events, recipients, sends

_TRAITS = ("email", "phone")


@dataclass(frozen=True, slots=True)
class Matching:
    recipients: int
    matched: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "recipients": self.recipients,
            "matched": self.matched,
            "unmatched": self.recipients - self.matched,
            "by": ["user_id", *(f"{t} trait" for t in _TRAITS)],
        }


def _epoch(engine: Engine, column: Any) -> Any:
    if engine.dialect.name == "sqlite":
        return func.cast(func.strftime("%s", column), type_=sends.c.id.type)
    return func.cast(func.floor(func.extract("epoch", column)), type_=sends.c.id.type)


def register(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, Any]) -> None:
    """A temporary table `name` from numpy columns (object columns become VARCHAR, so an
    empty one still has a type)."""
    con.register(f"{name}_in", columns)
    select_list = ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}" if a.dtype == object else c for c, a in columns.items()
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select_list} FROM {name}_in")
    con.unregister(f"{name}_in")


def load_store_sends(con: duckdb.DuckDBPyConnection, engine: Engine, campaign_id: int) -> int:
    """Fill `lift_sends(recipient, sent_at, held_out)` and `lift_people(recipient, kind, key)`
    for one campaign; return how many sends it has."""
    query = select(
        sends.c.recipient_id,
        _epoch(engine, sends.c.sent_at),
        case((sends.c.held_out, 1), else_=0),
        recipients.c.kind,
        recipients.c.key,
    ).select_from(sends.join(recipients, recipients.c.id == sends.c.recipient_id))
    with engine.connect() as conn:
        rows = conn.execute(query.where(sends.c.campaign_id == campaign_id)).all()
    if rows:
        ids, times, held, kinds, keys = zip(*rows, strict=True)
    else:
        ids = times = held = kinds = keys = ()
    register(
        con,
        "lift_rows",
        {
            "recipient": np.array(ids, dtype=np.int64),
            "t": np.array(times, dtype=np.int64),
            "h": np.array(held, dtype=np.int64),
            "kind": np.array(kinds, dtype=object),
            "key": np.array(keys, dtype=object),
        },
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_sends AS SELECT recipient, "
        "make_timestamp(t * 1000000) AS sent_at, h <> 0 AS held_out FROM lift_rows"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_people AS "
        "SELECT DISTINCT recipient, CAST(kind AS VARCHAR) AS kind, CAST(key AS VARCHAR) AS key "
        "FROM lift_rows"
    )
    con.execute("DROP TABLE lift_rows")
    return len(rows)


def _goal(goals: list[Goal], name: str) -> Goal:
    for goal in goals:
        if goal.event == name:
            return goal
    listed = ", ".join(repr(g.event) for g in goals) or "none yet"
    raise InvalidInput(
        f"no goal named {name!r}",
        hint=f"goals: {listed}; add one with `tagtrail goals add NAME`",
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive(value: datetime) -> datetime:
    return _utc(value).replace(tzinfo=None)


def load_store_conversions(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    workspace_id: int,
    *,
    goals: list[Goal],
    goal: str,
    secret: bytes,
) -> Matching:
    """Fill `lift_conversions(recipient, ts, value)` with the goal conversions of the people
    `lift_sends`' recipients are matched to; count the recipients matched to anybody."""
    wanted = _goal(goals, goal)
    ws = events.c.workspace_id == workspace_id
    with engine.connect() as conn:
        identifies = conn.execute(
            select(events.c.timestamp, events.c.anonymous_id, events.c.user_id, events.c.traits)
            .where(ws, events.c.type == "identify")
            .order_by(events.c.timestamp)
        ).all()
        goal_rows = conn.execute(
            select(
                events.c.message_id,
                events.c.timestamp,
                events.c.anonymous_id,
                events.c.user_id,
                events.c.properties,
            ).where(ws, events.c.type == "track", events.c.event == wanted.event)
        ).all()
        users = [
            str(u)
            for (u,) in conn.execute(
                select(events.c.user_id).distinct().where(ws, events.c.user_id.is_not(None))
            )
        ]
    # An anonymous id belongs to the first user it was identified as.
    first_user: dict[str, str] = {}
    by_trait: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in identifies:
        if row.anonymous_id and row.user_id and row.anonymous_id not in first_user:
            first_user[row.anonymous_id] = row.user_id
    for row in identifies:
        person = row.user_id or first_user.get(row.anonymous_id or "")
        who = f"u:{person}" if person else f"a:{row.anonymous_id}"
        try:
            traits = json.loads(row.traits or "{}")
        except ValueError:
            continue
        for name in _TRAITS:
            value = traits.get(name) if isinstance(traits, dict) else None
            if not isinstance(value, str) or not value.strip():
                continue
            try:
                kind, key = recipient_key(value, secret)
            except InvalidInput:
                continue
            if kind != "user":  # an address the recipients table keeps as a keyed hash
                by_trait[(kind, key)].add(who)
    conversions: list[tuple[str, str, datetime, float]] = []
    for hit in goal_rows:
        person = hit.user_id or first_user.get(hit.anonymous_id or "")
        who = f"u:{person}" if person else f"a:{hit.anonymous_id}"
        converted = conversion_for(
            NormalizedEvent(
                message_id=hit.message_id,
                type="track",
                timestamp=_utc(hit.timestamp),
                received_at=_utc(hit.timestamp),
                event=wanted.event,
                properties=_properties(hit.properties),
            ),
            [wanted],
        )
        if converted is not None:
            conversions.append((who, hit.message_id, _naive(hit.timestamp), float(converted.value)))
    traits = list(by_trait.items())
    register(
        con,
        "lift_traits",
        {
            "kind": np.array([k for (k, _), whos in traits for _ in whos], dtype=object),
            "key": np.array([key for (_, key), whos in traits for _ in whos], dtype=object),
            "who": np.array([w for _, whos in traits for w in sorted(whos)], dtype=object),
        },
    )
    known = [f"u:{u}" for u in users] + [w for _, whos in traits for w in whos]
    register(con, "lift_known", {"who": np.array(known, dtype=object)})
    register(
        con,
        "lift_goal",
        {
            "who": np.array([c[0] for c in conversions], dtype=object),
            "message_id": np.array([c[1] for c in conversions], dtype=object),
            "ts": np.array([c[2] for c in conversions], dtype="datetime64[us]"),
            "value": np.array([c[3] for c in conversions], dtype=np.float64),
        },
    )
    con.execute(_TOKENS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_conversions AS SELECT DISTINCT t.recipient, "
        "g.message_id, g.ts, g.value FROM lift_tokens t JOIN lift_goal g USING (who)"
    )
    found = con.execute(
        "SELECT (SELECT count(*) FROM lift_people), (SELECT count(DISTINCT recipient) "
        "FROM lift_tokens WHERE who IN (SELECT who FROM lift_known))"
    ).fetchone()
    assert found is not None
    return Matching(int(found[0]), int(found[1]))


_TOKENS = """
CREATE OR REPLACE TEMP TABLE lift_tokens AS
SELECT recipient, 'u:' || key AS who FROM lift_people WHERE kind = 'user'
UNION ALL
SELECT p.recipient, t.who FROM lift_people p JOIN lift_traits t USING (kind, key)
"""


def _properties(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
