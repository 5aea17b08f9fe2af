"""The store's side of the lift: a campaign's sends and its recipients' goal conversions, loaded
into DuckDB's `lift_sends` and `lift_conversions` (docs/lift.md, "Matching").

The rows are read as Arrow (`store.arrow`: the campaign's sends, the goal's events, the identify
calls, the user recipients the events name) and matched in DuckDB SQL; Python sees only the
identify calls' traits (their keyed hashes) and the goal events' revenue property (read as
the attribution journeys read it, `collect.goal_value`).

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
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlalchemy import BigInteger, Engine, case, func, literal, select, union

from tagtrail.collect import Goal, goal_value
from tagtrail.errors import InvalidInput
from tagtrail.lift.outcome import Totals, sends_totals
from tagtrail.service.recipients import recipient_key
from tagtrail.store.arrow import listed, read_arrow
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


def register(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, Any]) -> None:
    """A temporary table `name` from numpy columns (object columns become VARCHAR, so an
    empty one still has a type)."""
    con.register(f"{name}_in", columns)
    select_list = ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}" if a.dtype == object else c for c, a in columns.items()
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select_list} FROM {name}_in")
    con.unregister(f"{name}_in")


def _sql(engine: Engine, query: Any) -> str:
    """`query` as plain SQL text of the store's dialect (`read_arrow` runs text: values are
    literals)."""
    return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _text(column: Any) -> Any:
    """A nullable text column as '' for NULL (so it is read as text even when every row is
    NULL)."""
    return func.coalesce(column, "")


def _typed(table: pa.Table, **types: pa.DataType) -> pa.Table:
    """`table`, or with no rows an empty table of `types` (a SQLite column of no value has no
    type)."""
    if table.num_rows:
        return table
    return pa.table({name: pa.array([], kind) for name, kind in types.items()})


#: Whole seconds of a stored time read as Arrow (text on SQLite, a timestamp on PostgreSQL).
_SECONDS = "date_trunc('second', CAST({} AS TIMESTAMP))"


def _sends_queries(
    engine: Engine, campaign_id: int, cutoff: datetime, matched: list[int]
) -> dict[str, str]:
    """The campaign's sends counted by group in the store (held_out, sends, pending: those at
    or after `cutoff`, first send), and every send of the recipients sent more than once or
    `matched`."""
    s = sends.c
    campaign = s.campaign_id == campaign_id
    repeated = (
        select(s.recipient_id).where(campaign).group_by(s.recipient_id).having(func.count() > 1)
    )
    since = literal(cutoff.strftime("%Y-%m-%d %H:%M:%S"))  # a text SQLite compares as stored
    found = {
        "groups": select(
            s.held_out,
            func.count().label("sends"),
            func.sum(case((s.sent_at >= since, 1), else_=0)).label("pending"),
            func.min(s.sent_at).label("first_send"),
        )
        .where(campaign)
        .group_by(s.held_out),
        # Two lookups by recipient (the matched ones through `sends_recipient`), a send once.
        "sends": union(
            *(
                select(s.id, s.recipient_id.label("recipient"), s.sent_at, s.held_out).where(
                    campaign, s.recipient_id.in_(among)
                )
                for among in (repeated, listed(engine, matched, BigInteger))
            )
        ),
    }
    return {name: _sql(engine, query) for name, query in found.items()}


#: The sends of `lift_sends`' recipients sent more than once.
_REPEATED = """(SELECT * FROM lift_sends WHERE recipient IN
  (SELECT recipient FROM lift_sends GROUP BY recipient HAVING count(*) > 1))"""

# Those sends by group, counted as the store counts all of them.
_REPEATED_SENDS = f"""
SELECT held_out, count(*), count(*) FILTER (WHERE sent_at >= $cutoff) FROM {_REPEATED}
GROUP BY held_out
"""


def load_store_sends(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    campaign_id: int,
    *,
    window: int,
    data_end: datetime,
) -> Totals:
    """Fill `lift_sends(recipient, sent_at, held_out)` (recipient = the recipients row id,
    times in whole seconds) with the campaign's sends to the recipients `lift_tokens` matched
    and to those sent more than once, keep in `lift_tokens` only its recipients, and return
    the `Totals` of all the campaign's recipients.

    The recipients sent once (most) are never read: they are the store's count of sends by
    group less the sends of those sent more than once. A recipient's window is open when
    their send, in whole seconds, plus `window` is after `data_end`: when the send is at or
    after `cutoff`."""
    matched = [
        int(r) for (r,) in con.execute("SELECT DISTINCT recipient FROM lift_tokens").fetchall()
    ]
    cutoff = (data_end - timedelta(seconds=window)).replace(microsecond=0) + timedelta(seconds=1)
    tables = read_arrow(engine, _sends_queries(engine, campaign_id, cutoff, matched))
    table = _typed(
        tables["sends"], recipient=pa.int64(), sent_at=pa.timestamp("us"), held_out=pa.bool_()
    )
    con.register("lift_sends_in", table)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_sends AS SELECT CAST(recipient AS BIGINT) AS recipient, "
        f"{_SECONDS.format('sent_at')} AS sent_at, CAST(held_out AS BOOLEAN) AS held_out "
        "FROM lift_sends_in"
    )
    con.unregister("lift_sends_in")
    con.execute("DELETE FROM lift_tokens WHERE recipient NOT IN (SELECT recipient FROM lift_sends)")
    again = {
        bool(held): (int(n), int(pending))
        for held, n, pending in con.execute(_REPEATED_SENDS, {"cutoff": cutoff}).fetchall()
    }
    once = []
    for r in tables["groups"].to_pylist():
        n, pending = again.get(bool(r["held_out"]), (0, 0))
        held, first = bool(r["held_out"]), _second(r["first_send"])
        once.append((held, int(r["sends"]) - n, 0, int(r["pending"]) - pending, first))
    repeated = sends_totals(con, _REPEATED, window=window, data_end=data_end)
    return Totals.of_rows(once) + repeated


def _second(value: datetime | str) -> datetime:
    """A stored time (text on SQLite) in whole seconds."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return found.replace(microsecond=0, tzinfo=None)


def matching(con: duckdb.DuckDBPyConnection, totals: Totals) -> Matching:
    """How many of the campaign's recipients (`totals`) `lift_tokens` matched to somebody."""
    found = con.execute("SELECT count(DISTINCT recipient) FROM lift_tokens").fetchone()
    assert found is not None
    return Matching(totals.treatment + totals.control, int(found[0]))


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


def _store_queries(engine: Engine, workspace_id: int, goal: str) -> dict[str, str]:
    """The goal's events, the identify calls (in time order) and the user recipients the
    events name, as SQL for the store's dialect."""
    ws = events.c.workspace_id == workspace_id
    named = select(events.c.user_id).where(ws, events.c.user_id.is_not(None))
    found = {
        "goal": select(
            events.c.message_id,
            events.c.timestamp.label("ts"),
            _text(events.c.anonymous_id).label("anonymous_id"),
            _text(events.c.user_id).label("user_id"),
            events.c.properties,
        ).where(ws, events.c.type == "track", events.c.event == goal),
        "identifies": select(
            _text(events.c.anonymous_id).label("anonymous_id"),
            _text(events.c.user_id).label("user_id"),
            events.c.traits,
        )
        .where(ws, events.c.type == "identify")
        .order_by(events.c.timestamp, events.c.id),
        # Recipients are looked up by key for the people the events know only: the cost
        # follows the collected users, not the campaign's size.
        "users": select(recipients.c.id.label("recipient"), recipients.c.key).where(
            recipients.c.workspace_id == workspace_id,
            recipients.c.kind == "user",
            recipients.c.key.in_(named),
        ),
    }
    return {name: _sql(engine, query) for name, query in found.items()}


def _identified(
    rows: pa.Table, secret: bytes
) -> tuple[dict[str, str], dict[tuple[str, str], set[str]]]:
    """From the identify calls: the user each anonymous id was first identified as, and the
    people (`u:<user>` or `a:<anonymous id>`) each keyed hash of an email/phone trait names."""
    anonymous, users, traits = (rows.column(c).to_pylist() for c in rows.column_names)
    first_user: dict[str, str] = {}
    for anonymous_id, user_id in zip(anonymous, users, strict=True):
        if anonymous_id and user_id and anonymous_id not in first_user:
            first_user[anonymous_id] = user_id
    by_trait: dict[tuple[str, str], set[str]] = defaultdict(set)
    for anonymous_id, user_id, text in zip(anonymous, users, traits, strict=True):
        person = user_id or first_user.get(anonymous_id)
        who = f"u:{person}" if person else f"a:{anonymous_id}"
        found = _json_object(text)
        for name in _TRAITS:
            value = found.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            try:
                kind, key = recipient_key(value, secret)
            except InvalidInput:
                continue
            if kind != "user":  # an address the recipients table keeps as a keyed hash
                by_trait[(kind, key)].add(who)
    return first_user, by_trait


_GOAL_ROWS = f"""
CREATE OR REPLACE TEMP TABLE lift_goal AS
SELECT CASE WHEN g.user_id <> '' THEN 'u:' || g.user_id
            WHEN f.user_id IS NOT NULL THEN 'u:' || f.user_id
            ELSE 'a:' || g.anonymous_id END AS who,
       g.message_id, {_SECONDS.format("g.ts")} AS ts, v.value
FROM lift_goal_in g POSITIONAL JOIN lift_values v
LEFT JOIN lift_first_user f ON g.user_id = '' AND f.anonymous_id = g.anonymous_id
"""

_TOKENS = """
CREATE OR REPLACE TEMP TABLE lift_tokens AS
SELECT DISTINCT recipient, who FROM (
    SELECT CAST(recipient AS BIGINT) AS recipient, 'u:' || key AS who FROM lift_users_in
    UNION ALL SELECT recipient, who FROM lift_trait_tokens
)
"""

_CONVERSIONS = """
CREATE OR REPLACE TEMP TABLE lift_conversions AS SELECT DISTINCT t.recipient, g.message_id,
g.ts, g.value FROM lift_tokens t JOIN lift_goal g USING (who)
"""


def load_store_conversions(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    workspace_id: int,
    *,
    goals: list[Goal],
    goal: str,
    secret: bytes,
) -> None:
    """Fill `lift_tokens(recipient, who)` with the recipients of the workspace the collected
    people are matched to, and `lift_conversions(recipient, message_id, ts, value)` with those
    people's goal conversions (`load_store_sends` then keeps the campaign's)."""
    wanted = _goal(goals, goal)
    tables = read_arrow(engine, _store_queries(engine, workspace_id, wanted.event))
    first_user, by_trait = _identified(tables["identifies"], secret)
    text = pa.string()
    goal_rows = _typed(
        tables["goal"], message_id=text, ts=pa.timestamp("us"), anonymous_id=text,
        user_id=text, properties=text,
    )  # fmt: skip
    if wanted.revenue:
        texts = goal_rows.column("properties").to_pylist()
        values = [float(goal_value(wanted, _json_object(t))) for t in texts]
    else:
        values = [0.0] * goal_rows.num_rows
    con.register("lift_goal_in", goal_rows)
    con.register("lift_values", pa.table({"value": pa.array(values, pa.float64())}))
    register(
        con,
        "lift_first_user",
        {
            "anonymous_id": np.array(list(first_user), dtype=object),
            "user_id": np.array(list(first_user.values()), dtype=object),
        },
    )
    con.execute(_GOAL_ROWS)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, key in by_trait:
        by_kind[kind].append(key)
    traits: list[tuple[int, str]] = []
    for kind, keys in by_kind.items():
        for rid, key in _recipient_ids(engine, workspace_id, kind, keys):
            traits += [(rid, who) for who in sorted(by_trait[(kind, key)])]
    register(
        con,
        "lift_trait_tokens",
        {
            "recipient": np.array([t[0] for t in traits], dtype=np.int64),
            "who": np.array([t[1] for t in traits], dtype=object),
        },
    )
    con.register("lift_users_in", _typed(tables["users"], recipient=pa.int64(), key=text))
    con.execute(_TOKENS)
    con.execute(_CONVERSIONS)
    for name in ("lift_goal_in", "lift_values", "lift_users_in"):
        con.unregister(name)


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
