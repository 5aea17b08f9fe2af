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
from itertools import chain
from typing import Any

import duckdb
import numpy as np
from sqlalchemy import Engine, case, func, select

from tagtrail.collect import Goal, NormalizedEvent, conversion_for
from tagtrail.errors import InvalidInput
from tagtrail.service.recipients import recipient_key
from tagtrail.store.schema import events, recipients, sends

_TRAITS = ("email", "phone")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def _driver_rows(engine: Engine, query: Any) -> list[tuple[Any, ...]]:
    """Every row of `query` through the driver's own cursor (no per-row Result objects:
    a campaign's million sends are read in a third of the time)."""
    compiled = query.compile(dialect=engine.dialect)
    params: Any = compiled.params
    if engine.dialect.paramstyle == "qmark":
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(str(compiled), params)
        rows = list(cursor.fetchall())
        cursor.close()
    finally:
        raw.close()
    return rows


def load_store_sends(con: duckdb.DuckDBPyConnection, engine: Engine, campaign_id: int) -> int:
    """Fill `lift_sends(recipient, sent_at, held_out)` for one campaign (recipient = the
    recipients row id); return how many sends it has."""
    query = select(
        sends.c.recipient_id,
        _epoch(engine, sends.c.sent_at),
        case((sends.c.held_out, 1), else_=0),
    ).where(sends.c.campaign_id == campaign_id)
    rows = _driver_rows(engine, query)
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows))
    table = flat.reshape(-1, 3)
    register(con, "lift_rows", {"recipient": table[:, 0], "t": table[:, 1], "h": table[:, 2]})
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_sends AS SELECT recipient, "
        "make_timestamp(t * 1000000) AS sent_at, h <> 0 AS held_out FROM lift_rows"
    )
    con.execute("DROP TABLE lift_rows")
    return len(rows)


_CHUNK = 2_000


def _recipient_ids(
    engine: Engine, workspace_id: int, kind: str, keys: list[str]
) -> list[tuple[int, str]]:
    """(recipients row id, key) of the workspace's recipients of `kind` among `keys`."""
    found: list[tuple[int, str]] = []
    with engine.connect() as conn:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            found += [
                (int(r.id), str(r.key))
                for r in conn.execute(
                    select(recipients.c.id, recipients.c.key).where(
                        recipients.c.workspace_id == workspace_id,
                        recipients.c.kind == kind,
                        recipients.c.key.in_(chunk),
                    )
                )
            ]
    return found


def _goal(goals: list[Goal], name: str) -> Goal:
    for goal in goals:
        if goal.event == name:
            return goal
    listed = ", ".join(repr(g.event) for g in goals) or "none yet"
    raise InvalidInput(
        f"no goal named {name!r}",
        hint=f"goals: {listed}; add one with `tagtrail goals add NAME`",
    )


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
        users = [
            str(u)
            for (u,) in conn.execute(
                select(events.c.user_id).distinct().where(ws, events.c.user_id.is_not(None))
            )
        ]
    # The goal's events through the driver's cursor, times as whole seconds since the epoch.
    goal_rows = _driver_rows(
        engine,
        select(
            events.c.message_id,
            _epoch(engine, events.c.timestamp),
            events.c.anonymous_id,
            events.c.user_id,
            events.c.properties,
        ).where(ws, events.c.type == "track", events.c.event == wanted.event),
    )
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
    conversions: list[tuple[str, str, int, float]] = []
    for message_id, epoch, anonymous_id, user_id, properties in goal_rows:
        person = user_id or first_user.get(anonymous_id or "")
        who = f"u:{person}" if person else f"a:{anonymous_id}"
        # conversion_for gives the goal's value (its revenue property) exactly as the
        # attribution journeys do; the time is not needed for that.
        event = NormalizedEvent(
            message_id=message_id,
            type="track",
            timestamp=_EPOCH,
            received_at=_EPOCH,
            event=wanted.event,
            properties=_properties(properties),
        )
        converted = conversion_for(event, [wanted])
        if converted is not None:
            conversions.append((who, message_id, int(epoch), float(converted.value)))
    # Recipients are looked up by key, for the people the events know only: the cost
    # follows the collected users, not the campaign's size.
    tokens = [(rid, f"u:{key}") for rid, key in _recipient_ids(engine, workspace_id, "user", users)]
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, key in by_trait:
        by_kind[kind].append(key)
    for kind, keys in by_kind.items():
        for rid, key in _recipient_ids(engine, workspace_id, kind, keys):
            tokens += [(rid, who) for who in sorted(by_trait[(kind, key)])]
    register(
        con,
        "lift_tokens_all",
        {
            "recipient": np.array([t[0] for t in tokens], dtype=np.int64),
            "who": np.array([t[1] for t in tokens], dtype=object),
        },
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_tokens AS SELECT * FROM lift_tokens_all "
        "WHERE recipient IN (SELECT recipient FROM lift_sends)"
    )
    register(
        con,
        "lift_goal",
        {
            "who": np.array([c[0] for c in conversions], dtype=object),
            "message_id": np.array([c[1] for c in conversions], dtype=object),
            "t": np.array([c[2] for c in conversions], dtype=np.int64),
            "value": np.array([c[3] for c in conversions], dtype=np.float64),
        },
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_conversions AS SELECT DISTINCT t.recipient, "
        "g.message_id, make_timestamp(g.t * 1000000) AS ts, g.value "
        "FROM lift_tokens t JOIN lift_goal g USING (who)"
    )
    found = con.execute(
        "SELECT (SELECT count(DISTINCT recipient) FROM lift_sends), "
        "(SELECT count(DISTINCT recipient) FROM lift_tokens)"
    ).fetchone()
    assert found is not None
    return Matching(int(found[0]), int(found[1]))


def _properties(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
