"""The identity mapping kept as data: every id → its identity, updated as facts arrive.

`fold(conn)` reads the rows committed since its marks (`rollup_marks` rows `identity:<table>`,
each the largest id folded in) and turns them into identity facts exactly as the from-scratch
read does (`tagtrail.service.collected.load_collected`, the oracle):

- an event with a user id, or an alias → `identify`, `event` or `alias`;
- every `identity_facts` row (verified identity hints, imported identities) as it is;
- a stored touchpoint or a human short-link click whose recipient the store knows as a user
  (a `recipients` row of kind `user`) → `recipient`.

A fact that says nothing new (the same fact, not earlier) is dropped at once: an app that sends
a user id with every event costs one indexed lookup per distinct fact in a batch. The rest are
kept in `identity_edges`, one row per distinct fact with its earliest time (the resolver's
result depends on nothing else: later copies of a fact merge nothing and refuse nothing new).

Resolution is local to a **cluster**: the ids linked by any fact, merged or refused. Rule by
rule (`collect/identity.py`), what `resolve` decides about an id depends only on the facts that
share an id with it, transitively; user ids, anonymous ids and previous ids share one name space
here (an alias's previous id is a user id when any fact names it as one), recipients another.
So a fold loads the clusters its new facts touch, joins them, runs the same pure `resolve` on
their facts and writes back only their nodes and refused merges. Merges are retroactive (an
anonymous id identified today moves to its user, and every row is read through the mapping) and
a late fact with an earlier time wins as it would from scratch.

Clusters only grow (facts are never taken back; a click re-flagged as a bot keeps the fact its
recipient gave, which says what the `recipients` row says anyway). A cluster's id is its
smallest edge id. Folds serialise on the marks' rows; the writer folds after each commit that
stored fact-bearing rows (`tagtrail.store.writer.GroupWriter`), `fold_all` catches a store up in
chunks, each its own transaction, so an interrupted catch-up resumes where it stopped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from tagtrail.collect.identity import Conflict, FactKind, IdentityFact, IdentityGraph, resolve
from tagtrail.store.schema import (
    clicks,
    events,
    identity_conflicts,
    identity_edges,
    identity_facts,
    identity_nodes,
    links,
    recipients,
    rollup_marks,
    touchpoints,
)

__all__ = ["FACT_TABLES", "SOURCES", "fold", "fold_all", "graph_of", "identity_of_user", "pending"]

#: The tables whose rows carry identity facts, in the order a fold reads them.
SOURCES: Final = ("events", "identity_facts", "touchpoints", "clicks")
#: The sources whose every row may carry a fact (a click does only when it names a recipient).
FACT_TABLES: Final = frozenset(SOURCES[:3])
_CLUSTERS: Final = "identity:clusters"  # the last cluster id given
CHUNK: Final = 20_000  # rows per source and fold: bounds a catch-up transaction
_IN: Final = 400  # ids per IN list (SQLite's bound-parameter limit is shared by the columns)

#: (workspace, kind, anonymous id, user id, previous id, recipient); '' for no id.
FactKey: TypeAlias = tuple[int, str, str, str, str, str]
_Name: TypeAlias = tuple[str, str]  # ("p", user/anonymous/previous id) or ("r", recipient)


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _mark_name(source: str) -> str:
    return f"identity:{source}"


def _event_facts(low: int, high: int) -> Select[Any]:
    e = events.c
    alias = e.type == "alias"
    kind = case((alias, "alias"), (e.type == "identify", "identify"), else_="event")
    return select(
        e.workspace_id,
        kind,
        e.timestamp,
        e.anonymous_id,
        e.user_id,
        case((alias, e.previous_id)),
        null(),
    ).where(e.id > low, e.id <= high, or_(alias, e.user_id.is_not(None)))


def _stored_facts(low: int, high: int) -> Select[Any]:
    f = identity_facts.c
    return select(
        f.workspace_id, f.kind, f.timestamp, f.anonymous_id, f.user_id, f.previous_id, f.recipient
    ).where(f.id > low, f.id <= high)


def _touchpoint_facts(low: int, high: int) -> Select[Any]:
    t, r = touchpoints.c, recipients.c
    user = func.coalesce(t.user_id, r.key)
    known = and_(r.workspace_id == t.workspace_id, r.public_id == t.recipient)
    return (
        select(t.workspace_id, literal("recipient"), t.timestamp, null(), user, null(), t.recipient)
        .select_from(touchpoints.join(recipients, known))
        .where(t.id > low, t.id <= high, r.kind == "user")
    )


def _click_facts(low: int, high: int) -> Select[Any]:
    c, r = clicks.c, recipients.c
    human = and_(c.is_bot.is_(False), c.url.is_not(None))
    return (
        select(
            links.c.workspace_id,
            literal("recipient"),
            c.clicked_at,
            null(),
            r.key,
            null(),
            r.public_id,
        )
        .select_from(
            clicks.join(links, links.c.id == c.link_id).join(recipients, r.id == c.recipient_id)
        )
        .where(c.id > low, c.id <= high, human, r.kind == "user")
    )


#: Each source's facts as (workspace, kind, time, anonymous id, user id, previous id, recipient),
#: exactly the facts `load_collected` makes of the same rows.
_FACTS: Final[dict[str, Callable[[int, int], Select[Any]]]] = {
    "events": _event_facts,
    "identity_facts": _stored_facts,
    "touchpoints": _touchpoint_facts,
    "clicks": _click_facts,
}


_TABLES: Final = {
    "events": events,
    "identity_facts": identity_facts,
    "touchpoints": touchpoints,
    "clicks": clicks,
}


def _table(source: str) -> Any:
    return _TABLES[source]


def _marks(conn: Connection) -> dict[str, int]:
    names = [_mark_name(s) for s in SOURCES]
    query = select(rollup_marks.c.name, rollup_marks.c.mark).where(rollup_marks.c.name.in_(names))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # folds serialise here
    else:  # SQLite: take the write lock now, not at the first write after these reads
        conn.execute(
            update(rollup_marks)
            .where(rollup_marks.c.name == names[0])
            .values(mark=rollup_marks.c.mark)
        )
    found = {name: int(mark) for name, mark in conn.execute(query)}
    return {s: found.get(_mark_name(s), 0) for s in SOURCES}


_PENDING: Final = text(
    "SELECT "
    + ", ".join(
        f"(SELECT max(id) FROM {source}), "
        f"(SELECT mark FROM rollup_marks WHERE name = '{_mark_name(source)}')"
        for source in SOURCES
    )
)


def pending(conn: Connection) -> dict[str, int]:
    """How many rows of each source are not folded in yet (by id range; one statement)."""
    found = conn.execute(_PENDING).one()
    return {
        source: max(0, int(found[2 * k] or 0) - int(found[2 * k + 1] or 0))
        for k, source in enumerate(SOURCES)
    }


def _highest(conn: Connection, source: str) -> int:
    return int(conn.execute(select(func.max(_table(source).c.id))).scalar() or 0)


def committed(conn: Connection) -> dict[str, int] | None:
    """PostgreSQL: the largest id of each source below which every row is committed, read on
    `conn` outside any transaction. Two writers' ids can commit out of order there: each bound
    is read under `LOCK TABLE … IN SHARE MODE`, which waits for the inserts in flight, in a
    transaction of its own that holds no other lock, so a fold never waits for a writer while
    holding what that writer waits for. SQLite (None) has one writer: its ids commit in
    order, and the fold reads them in its own transaction."""
    if conn.dialect.name != "postgresql":
        return None
    bounds: dict[str, int] = {}
    for source in SOURCES:
        with conn.begin():
            conn.exec_driver_sql(f"LOCK TABLE {_table(source).name} IN SHARE MODE")
            bounds[source] = _highest(conn, source)
    return bounds


def fold_once(conn: Connection, *, chunk: int = CHUNK) -> int:
    """`fold` on `conn` (outside any transaction) in a transaction of its own."""
    bounds = committed(conn)
    with conn.begin():
        return fold(conn, bounds, chunk=chunk)


def fold(conn: Connection, bounds: Mapping[str, int] | None = None, *, chunk: int = CHUNK) -> int:
    """Fold the rows committed since the marks, up to `bounds` (`committed`; None on SQLite)
    and at most `chunk` per source, into the mapping, in the caller's transaction; returns how
    many source rows it read past (0: up to date)."""
    if conn.dialect.name == "postgresql":
        # Every statement of a fold is index probes for a few thousand keys. While the
        # mapping's tables grow faster than autovacuum analyses them, the planner takes them
        # for small and joins the keys against a whole workspace's edges: by hash, by merge,
        # or (those off) by a nested loop over the workspace's edges read once by a bitmap
        # scan and kept in memory — 90M comparisons for 1,200 keys and 75,600 edges, 11.6 s
        # a chunk of `tagtrail migrate` at 10M events. Only index scans are left to it.
        for method in ("hashjoin", "mergejoin", "seqscan", "bitmapscan", "material"):
            conn.exec_driver_sql(f"SET LOCAL enable_{method} = off")
        _analyze_if_grown(conn)
    marks = _marks(conn)
    facts: dict[FactKey, datetime] = {}
    moved = 0
    for source in SOURCES:
        low = marks[source]
        top = _highest(conn, source) if bounds is None else bounds[source]
        if top < low:  # the largest rows were deleted: SQLite hands their ids out again
            conn.execute(
                update(rollup_marks)
                .where(rollup_marks.c.name == _mark_name(source))
                .values(mark=top)
            )
            continue
        high = min(top, low + chunk)
        if high <= low:
            continue
        for ws, kind, when, anon, user, previous, recipient in conn.execute(
            _FACTS[source](low, high)
        ):
            key = (ws, kind, anon or "", user or "", previous or "", recipient or "")
            when = _naive(when)
            if key not in facts or when < facts[key]:
                facts[key] = when
        conn.execute(
            update(rollup_marks).where(rollup_marks.c.name == _mark_name(source)).values(mark=high)
        )
        moved += high - low
    by_workspace: dict[int, dict[FactKey, datetime]] = defaultdict(dict)
    for key, when in facts.items():
        by_workspace[key[0]][key] = when
    for workspace_id, found in by_workspace.items():
        _apply(conn, workspace_id, found)
    return moved


#: The mapping's tables whose statistics a fold renews once they have changed by half (and at
#: least `_GROWN` rows) since their last ANALYZE: with a table taken for 152 rows when it held
#: 75,600, the primary key was used for (workspace, kind) only and the ids filtered row by row,
#: a scan of the workspace's nodes per statement.
_MAPPING_TABLES: Final = ("identity_edges", "identity_nodes", "identity_conflicts")
_GROWN: Final = 10_000
_GROWN_SQL: Final = text(
    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.relname = ANY(:tables) AND s.n_mod_since_analyze > greatest(:least, c.reltuples / 2)"
)


def _analyze_if_grown(conn: Connection) -> None:
    """PostgreSQL: ANALYZE the mapping's tables that grew past their statistics (one
    catalogue query; ANALYZE reads a sample and blocks no writer)."""
    grown = conn.execute(_GROWN_SQL, {"tables": list(_MAPPING_TABLES), "least": _GROWN})
    for (table,) in grown.all():
        if table in _MAPPING_TABLES:
            conn.exec_driver_sql(f"ANALYZE {table}")


def fold_all(
    engine: Engine, *, chunk: int = CHUNK, progress: Callable[[int], None] | None = None
) -> int:
    """Fold until the mapping is up to date, one transaction per chunk (an interrupted run
    resumes where it stopped); `progress(rows)` is told each chunk's size."""
    total = 0
    with engine.connect() as conn:
        if not has_mapping(conn):
            return 0
    while True:
        with engine.connect() as conn:
            moved = fold_once(conn, chunk=chunk)
        if not moved:
            return total
        total += moved
        if progress is not None:
            progress(moved)


def has_mapping(conn: Connection) -> bool:
    """Whether the store has the mapping's tables (a store migrated only to an older version,
    as tests of older migrations make, has none: nothing to fold)."""
    query = select(rollup_marks.c.mark).where(rollup_marks.c.name == _mark_name(SOURCES[0]))
    try:
        with conn.begin():  # on a connection outside any transaction
            return conn.execute(query).first() is not None
    except DBAPIError:
        return False


def catch_up(engine: Engine) -> int:
    """`fold_all` when rows are waiting (rows stored by a path that does not fold itself: a
    store an older version wrote, a bulk load); a few index lookups when none are."""
    with engine.connect() as conn:
        waiting = has_mapping(conn) and any(pending(conn).values())
    return fold_all(engine) if waiting else 0


def _names(key: FactKey) -> Iterator[_Name]:
    _, _, anon, user, previous, recipient = key
    for value in (anon, user, previous):
        if value:
            yield ("p", value)
    if recipient:
        yield ("r", recipient)


def _chunks(items: list[Any], size: int = _IN) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(slots=True)
class _Edge:
    id: int
    key: FactKey
    timestamp: datetime
    cluster: int


def _edges_of(conn: Connection, workspace_id: int, where: Any) -> list[_Edge]:
    e = identity_edges.c
    rows = conn.execute(
        select(
            e.id,
            e.kind,
            e.anonymous_id,
            e.user_id,
            e.previous_id,
            e.recipient,
            e.timestamp,
            e.cluster,
        ).where(e.workspace_id == workspace_id, where)
    )
    return [
        _Edge(int(i), (workspace_id, k, a, u, p, r), ts, int(c)) for i, k, a, u, p, r, ts, c in rows
    ]


_EDGE_COLUMNS = (
    "e.id, e.kind, e.anonymous_id, e.user_id, e.previous_id, e.recipient, e.timestamp, e.cluster"
)
_KEY_MATCH = (
    "e.workspace_id = :ws AND e.kind = k.kind AND e.anonymous_id = k.anonymous_id "
    "AND e.user_id = k.user_id AND e.previous_id = k.previous_id AND e.recipient = k.recipient"
)
#: The stored copies of a list of facts, one index probe a fact. Row-value IN lists use only the
#: index's first column on both SQLite and PostgreSQL (a scan of the workspace's edges), so the
#: keys are a table joined first: arrays through `unnest` on PostgreSQL, a JSON array through
#: `json_each` on SQLite (CROSS JOIN keeps that order). On PostgreSQL the probe is a LATERAL
#: subquery kept whole by `OFFSET 0` (else the planner flattens it into a join): with the
#: edges' statistics behind (9 rows for 9,644) it made the workspace's edges the outer side
#: and compared each with every key, 7.7M comparisons and 1.2 s for 800 keys.
_STORED: Final = {
    "postgresql": text(
        f"SELECT {_EDGE_COLUMNS} FROM unnest(CAST(:kinds AS text[]), CAST(:anons AS text[]), "
        "CAST(:users AS text[]), CAST(:previous AS text[]), CAST(:recipients AS text[])) "
        "AS k(kind, anonymous_id, user_id, previous_id, recipient) "
        f"CROSS JOIN LATERAL (SELECT {_EDGE_COLUMNS} FROM identity_edges e WHERE {_KEY_MATCH} "
        "OFFSET 0) e"
    ),
    "sqlite": text(
        f"SELECT {_EDGE_COLUMNS} FROM (SELECT json_extract(value, '$[0]') AS kind, "
        "json_extract(value, '$[1]') AS anonymous_id, json_extract(value, '$[2]') AS user_id, "
        "json_extract(value, '$[3]') AS previous_id, json_extract(value, '$[4]') AS recipient "
        f"FROM json_each(:keys)) AS k CROSS JOIN identity_edges e ON {_KEY_MATCH}"
    ),
}


def _stored(conn: Connection, workspace_id: int, keys: list[FactKey]) -> dict[FactKey, _Edge]:
    """The stored copies of these facts (`_STORED`)."""
    if not keys:
        return {}
    columns = ("kinds", "anons", "users", "previous", "recipients")
    if conn.dialect.name == "postgresql":
        values = dict(
            zip(columns, (list(c) for c in zip(*(k[1:] for k in keys), strict=True)), strict=True)
        )
        bound: dict[str, Any] = {"ws": workspace_id, **values}
    else:
        bound = {"ws": workspace_id, "keys": json.dumps([k[1:] for k in keys])}
    rows = conn.execute(_STORED[conn.dialect.name], bound)
    found: dict[FactKey, _Edge] = {}
    for i, k, a, u, p, r, ts, c in rows:
        key = (workspace_id, k, a, u, p, r)
        found[key] = _Edge(int(i), key, _datetime(ts), int(c))
    return found


def _datetime(value: Any) -> datetime:
    """A timestamp as text SQL gives it on SQLite (`YYYY-MM-DD HH:MM:SS[.ffffff]`)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows at the driver's speed: SQLite's executemany runs in C; PostgreSQL's is a round
    trip a row, so there they go by COPY, in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[k] for k in columns])


def _new_clusters(conn: Connection, count: int) -> int:
    """The first of `count` new cluster ids (a counter in `rollup_marks`, under the fold's lock)."""
    mark = rollup_marks.c
    counter = select(mark.mark).where(mark.name == _CLUSTERS)
    first = int(conn.execute(counter).scalar_one()) + 1
    conn.execute(update(rollup_marks).where(mark.name == _CLUSTERS).values(mark=first + count - 1))
    return first


#: PostgreSQL's probe of the nodes by id, one index lookup a key as `_STORED`'s (an IN list
#: became a filter over the workspace's nodes of a kind while their statistics were behind).
_NAMED_POSTGRESQL: Final = text(
    "SELECT n.cluster FROM unnest(CAST(:ids AS text[])) AS k(id) CROSS JOIN LATERAL "
    "(SELECT n.cluster FROM identity_nodes n "
    "WHERE n.workspace_id = :ws AND n.kind = :kind AND n.id = k.id OFFSET 0) n"
)


def _clusters_named(conn: Connection, workspace_id: int, names: set[_Name]) -> set[int]:
    """The clusters of the nodes these names can be: one kind per query, so that the primary
    key (workspace, kind, id) is what the planner probes (with an IN list of kinds, or with
    DISTINCT, SQLite scanned the workspace's nodes by cluster)."""
    n = identity_nodes.c
    people = sorted(v for k, v in names if k == "p")
    recipients_ = sorted(v for k, v in names if k == "r")
    found: set[int] = set()
    for kind, values in (("user", people), ("anon", people), ("recipient", recipients_)):
        if conn.dialect.name == "postgresql" and values:
            bound = {"ws": workspace_id, "kind": kind, "ids": values}
            found.update(int(c) for c in conn.scalars(_NAMED_POSTGRESQL, bound))
            continue
        for part in _chunks(values):
            query = select(n.cluster).where(
                n.workspace_id == workspace_id, n.kind == kind, n.id.in_(part)
            )
            found.update(int(c) for c in conn.scalars(query))
    return found


def _components(edges: list[_Edge]) -> list[list[_Edge]]:
    parent: dict[_Name, _Name] = {}

    def find(name: _Name) -> _Name:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for edge in edges:
        names = list(_names(edge.key))
        root = find(names[0])
        for other in names[1:]:
            parent[find(other)] = root
    groups: dict[_Name, list[_Edge]] = defaultdict(list)
    for edge in edges:
        groups[find(next(_names(edge.key)))].append(edge)
    return list(groups.values())


def _fact(edge: _Edge) -> IdentityFact:
    _, kind, anon, user, previous, recipient = edge.key
    kind_: FactKind = kind  # type: ignore[assignment]  # stored from FactKind values
    return IdentityFact(
        kind_,
        edge.timestamp.replace(tzinfo=UTC),
        anon or None,
        user or None,
        previous or None,
        recipient or None,
    )


def _apply(conn: Connection, workspace_id: int, facts: dict[FactKey, datetime]) -> None:
    """Store the facts that change something (new, or earlier than the stored copy) and
    resolve again the clusters they touch, joined as their facts join them."""
    stored = _stored(conn, workspace_id, [k for k in facts if any(_names(k))])
    new = [
        _Edge(0, key, when, 0)
        for key, when in facts.items()
        if key not in stored and any(_names(key))
    ]
    earlier = [
        (stored[key], when)
        for key, when in facts.items()
        if key in stored and when < stored[key].timestamp
    ]
    if not new and not earlier:
        return
    e, n, c = identity_edges.c, identity_nodes.c, identity_conflicts.c
    if earlier:
        conn.execute(
            update(identity_edges)
            .where(e.id == bindparam("edge"))
            .values(timestamp=bindparam("when")),
            [{"edge": edge.id, "when": when} for edge, when in earlier],
        )
    names = {name for edge in new for name in _names(edge.key)}
    names |= {name for edge, _ in earlier for name in _names(edge.key)}
    old = sorted(_clusters_named(conn, workspace_id, names) | {edge.cluster for edge, _ in earlier})
    edges = _edges_of(conn, workspace_id, e.cluster.in_(old)) if old else []
    for x in edges:  # a stored fact seen again, earlier: its earlier time
        if x.key in facts and facts[x.key] < x.timestamp:
            x.timestamp = facts[x.key]
    components = _components(edges + new)
    fresh = sum(1 for edges_ in components if not any(x.cluster for x in edges_))
    next_id = _new_clusters(conn, fresh) if fresh else 0
    inserts: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    for members in components:
        before = sorted({x.cluster for x in members if x.cluster})
        if before:
            cluster = before[0]
            if len(before) > 1:  # clusters joined by a new fact: one id for all their edges
                conn.execute(
                    update(identity_edges)
                    .where(e.workspace_id == workspace_id, e.cluster.in_(before[1:]))
                    .values(cluster=cluster)
                )
        else:
            cluster, next_id = next_id, next_id + 1
        inserts += [_edge_row(workspace_id, cluster, x) for x in members if not x.id]
        graph = resolve(_fact(x) for x in members)
        nodes += _node_rows(workspace_id, cluster, graph)
        conflicts += _conflict_rows(workspace_id, cluster, graph)
    for part in _chunks(old):  # the clusters resolved again: their rows are written anew
        conn.execute(
            delete(identity_nodes).where(n.workspace_id == workspace_id, n.cluster.in_(part))
        )
        conn.execute(
            delete(identity_conflicts).where(c.workspace_id == workspace_id, c.cluster.in_(part))
        )
    _insert(conn, identity_edges, inserts)
    _insert(conn, identity_nodes, nodes)
    _insert(conn, identity_conflicts, conflicts)


def _edge_row(workspace_id: int, cluster: int, edge: _Edge) -> dict[str, Any]:
    _, kind, anon, user, previous, recipient = edge.key
    return {
        "workspace_id": workspace_id,
        "kind": kind,
        "anonymous_id": anon,
        "user_id": user,
        "previous_id": previous,
        "recipient": recipient,
        "timestamp": edge.timestamp,
        "cluster": cluster,
    }


def _node_rows(workspace_id: int, cluster: int, graph: IdentityGraph) -> list[dict[str, Any]]:
    return [
        {"workspace_id": workspace_id, "kind": kind, "id": key, "identity": who, "cluster": cluster}
        for kind, mapping in (
            ("user", graph.users),
            ("anon", graph.anonymous),
            ("recipient", graph.recipients),
        )
        for key, who in mapping.items()
    ]


def _conflict_rows(workspace_id: int, cluster: int, graph: IdentityGraph) -> list[dict[str, Any]]:
    return [
        {
            "workspace_id": workspace_id,
            "cluster": cluster,
            "timestamp": _naive(x.timestamp),
            "kind": x.kind,
            "conflict_id": x.id,
            "kept": x.kept,
            "refused": x.refused,
            "fact": x.fact,
        }
        for x in graph.conflicts
    ]


def identity_of_user(conn: Connection, workspace_id: int, user_id: str) -> str | None:
    """The identity a user id belongs to, None when no fact ever named it."""
    n = identity_nodes.c
    found = conn.execute(
        select(n.identity).where(n.workspace_id == workspace_id, n.kind == "user", n.id == user_id)
    ).scalar()
    return None if found is None else str(found)


def graph_of(conn: Connection, workspace_id: int, identity: str | None = None) -> IdentityGraph:
    """The stored identity graph of the workspace, or only the part of it that is `identity`
    (its ids, and the refused merges that name it), as `resolve` gives it from scratch."""
    return graph_of_identities(conn, workspace_id, None if identity is None else [identity])


#: Identities per IN list of `graph_of_identities` (one column bound: far below SQLite's limit).
_IDENTITIES_IN: Final = 4_000


def graph_of_identities(
    conn: Connection, workspace_id: int, identities: Collection[str] | None
) -> IdentityGraph:
    """`graph_of` for several identities at once (None: the whole workspace's graph)."""
    n, c = identity_nodes.c, identity_conflicts.c
    nodes = select(n.kind, n.id, n.identity).where(n.workspace_id == workspace_id)
    refused = select(c.id, c.timestamp, c.kind, c.conflict_id, c.kept, c.refused, c.fact).where(
        c.workspace_id == workspace_id
    )
    if identities is None:
        node_rows = list(conn.execute(nodes))
        refused_rows = list(conn.execute(refused))
    else:  # in chunks of ids; a refused merge naming two of them is read twice, kept once
        chunks = list(_chunks(sorted(set(identities)), _IDENTITIES_IN))
        node_rows = [r for ids in chunks for r in conn.execute(nodes.where(n.identity.in_(ids)))]
        by_id = {
            r.id: r
            for ids in chunks
            for r in conn.execute(refused.where(or_(c.kept.in_(ids), c.refused.in_(ids))))
        }
        refused_rows = list(by_id.values())
    by_kind: dict[str, dict[str, str]] = {"user": {}, "anon": {}, "recipient": {}}
    for kind, key, who in node_rows:
        by_kind[kind][key] = who
    conflicts = sorted(
        Conflict(ts.replace(tzinfo=UTC), kind, key, kept, refused_, fact)
        for _, ts, kind, key, kept, refused_, fact in refused_rows
    )
    return IdentityGraph(
        users=MappingProxyType(by_kind["user"]),
        anonymous=MappingProxyType(by_kind["anon"]),
        recipients=MappingProxyType(by_kind["recipient"]),
        conflicts=tuple(conflicts),
    )


def identities_of(
    conn: Connection, workspace_id: int, *, users: Collection[str], anonymous: Collection[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The identity of each of these user ids and anonymous ids that a fact ever named:
    (user id → identity, anonymous id → identity)."""
    n = identity_nodes.c
    found: dict[str, dict[str, str]] = {"user": {}, "anon": {}}
    for kind, ids in (("user", users), ("anon", anonymous)):
        for chunk in _chunks(sorted(set(ids))):
            query = select(n.id, n.identity).where(
                n.workspace_id == workspace_id, n.kind == kind, n.id.in_(chunk)
            )
            found[kind].update((str(i), str(who)) for i, who in conn.execute(query))
    return found["user"], found["anon"]
