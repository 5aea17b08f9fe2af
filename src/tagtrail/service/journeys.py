"""Collected journeys built in the engine: the store's rows → identities → sessions → arrivals
→ journey rows, in DuckDB SQL over Arrow tables, with no row ever a Python object.

The same journeys as `collected.load_collected` + `collect.journey_rows` (the oracle: a property
test compares them on random stores, SQLite and PostgreSQL), step by step (journeys_sql.py):

1. the rows are read with the ADBC drivers (`store.arrow`): events, stored touchpoints, human
   clicks with their recipient, the recipients that are users, the identity mapping
   (`identity_nodes`, kept by `store.identities`) and the goal events;
2. a click's traffic source is worked out by the Python rules (`click_touchpoint`) once per
   distinct (landing URL, referrer), a small table joined back to the clicks;
3. every touch and hit gets its identity as `IdentityGraph.identity_of` gives it (an id the
   mapping lacks is its own identity); click landings are dropped; a repeated message id
   counts once; sessions split per identity and device at the timeout (and, with
   `new_session_on_campaign_change`, at a change of campaign); arrivals are the non-direct
   touches and a session's first touch when direct — window functions, one sort each;
4. conversions are the goal events valued by the goal's revenue property (JSON in SQL, with
   `Decimal`'s grammar for numeric strings); `default_goal` sums each goal's distinct amounts;
5. one goal's rows, sorted as `journey_rows` sorts them, make the table `journeys` that the
   DuckDB attribution engine reads in place (`duckdb_engine.load_relation`), or a Parquet file
   in the DESIGN §7 format (`export_parquet`, what `--engine spark` reads); every goal's rows
   make the export's CSV (`csv_text`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, Table, and_, case, func, or_, select, union, union_all

from tagtrail.collect import JOURNEY_COLUMNS, Goal, best_goal, click_touchpoint, value_text
from tagtrail.collect.touchpoints import CLICK_LANDING_WINDOW
from tagtrail.service import journeys_sql as sql
from tagtrail.service.goals import list_goals
from tagtrail.store.arrow import listed, read_arrow, sql_text
from tagtrail.store.identities import catch_up
from tagtrail.store.schema import clicks, events, identity_nodes, links, recipients, touchpoints

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS: Final = 1_000_000
#: `str.strip()`'s whitespace, for a numeric string revenue (`Decimal(str(value).strip())`).
_SPACES: Final = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(
    chr(c) for c in (*range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)
#: The finite numbers `Decimal` reads (ASCII digits, `_` between digits).
_DECIMAL: Final = (
    r"[+-]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?"
)
_NUMBER_TYPES: Final = "'BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE'"
_STORED: Final = (
    *("message_id", "kind", "source", "medium", "campaign", "content", "term", "channel"),
    *("anonymous_id", "user_id", "recipient", "visitor"),
)


def _columns() -> dict[str, tuple[Any, ...]]:
    """The columns each input table reads (`journeys_sql` names them)."""
    return {
        "ev_in": (
            events.c.message_id,
            events.c.timestamp.label("ts"),
            events.c.anonymous_id,
            events.c.user_id,
            events.c.url,  # a page touch's landing (the dashboard's credit per link)
            *(c for c in events.c if c.name.startswith("tp_")),
        ),
        "tp_in": (
            touchpoints.c.id,
            *(getattr(touchpoints.c, name) for name in _STORED),
            touchpoints.c.url,
            touchpoints.c.timestamp.label("ts"),
        ),
        "ck_in": (
            clicks.c.id,
            clicks.c.clicked_at.label("ts"),
            clicks.c.url,
            clicks.c.referrer,
            clicks.c.visitor,
            clicks.c.recipient_id,
            clicks.c.link_id,
        ),
        "links_in": (links.c.id,),
        "recipients_in": (
            recipients.c.id,
            recipients.c.public_id,
            case((recipients.c.kind == "user", recipients.c.key)).label("user_id"),
        ),
        "nodes_in": (identity_nodes.c.kind, identity_nodes.c.id, identity_nodes.c.identity),
        "goal_in": (
            events.c.message_id,
            events.c.timestamp.label("ts"),
            events.c.event,
            events.c.properties,
            events.c.anonymous_id,
            events.c.user_id,
        ),
    }


_HUMAN: Final = (clicks.c.is_bot.is_(False), clicks.c.url.is_not(None))


def _is_goal(goals: list[Goal]) -> Any:
    chosen = or_(*(events.c.event == g.event for g in goals)) if goals else events.c.id < 0
    return and_(events.c.type == "track", chosen)


#: The input tables of the rows that are only ever added to (a row removed or re-flagged bumps
#: the store's `journeys` counter), with the table whose ids they follow.
APPENDED: Final = {"ev_in": events, "tp_in": touchpoints, "ck_in": clicks, "goal_in": events}
#: The appended tables' order in `Span`s and in `Rows.upto`.
SPANNED: Final = (events, touchpoints, clicks)
#: The ids of `SPANNED` read: (after, up to) of each, None for no bound.
Span = tuple[tuple[int, int | None], ...]


def _workspace_queries(workspace_id: int, goals: list[Goal], span: Span) -> dict[str, Any]:
    """The workspace's rows, the appended tables' only in `span`. Each table is scanned in its
    own order: SQLite took the workspace filter to an index and fetched each row by its id from
    there, 4.5 s for 800k recipients against 1.1 s for the scan, so the filter is on
    `workspace_id + 0`, which no index serves."""
    read = _columns()
    bounds = dict(zip(SPANNED, span, strict=True))

    def scanned(table: Table) -> Any:
        return (table.c.workspace_id + 0) == workspace_id

    def spanned(table: Table) -> tuple[Any, ...]:
        after, upto = bounds[table]
        return (table.c.id > after, *(() if upto is None else (table.c.id <= upto,)))

    return {
        "ev_in": select(*read["ev_in"]).where(scanned(events), *spanned(events)),
        "tp_in": select(*read["tp_in"]).where(scanned(touchpoints), *spanned(touchpoints)),
        "ck_in": select(*read["ck_in"]).where(*_HUMAN, *spanned(clicks)),  # a scan, fastest
        "links_in": select(*read["links_in"]).where(scanned(links)),
        "recipients_in": select(*read["recipients_in"]).where(scanned(recipients)),
        "nodes_in": select(*read["nodes_in"]).where(scanned(identity_nodes)),
        "goal_in": select(*read["goal_in"]).where(
            scanned(events), _is_goal(goals), *spanned(events)
        ),
    }


#: The ids an identity's own name gives (`collect.identity`): an id no node of the mapping
#: holds is its own identity, named after it.
_NAMED_AFTER: Final = (("anon:", "anon"), ("recipient:", "recipient"), ("visitor:", "visitor"))


def _own_ids(identities: Collection[str]) -> dict[str, list[str]]:
    """Each kind's ids that `identities` name: `anon:<id>`, `recipient:<id>`, `visitor:<hash>`,
    else a user id."""
    own: dict[str, list[str]] = {"user": [], "anon": [], "recipient": [], "visitor": []}
    for name in sorted(identities):
        kind = next((k for prefix, k in _NAMED_AFTER if name.startswith(prefix)), "user")
        own[kind].append(name.removeprefix(f"{kind}:") if kind != "user" else name)
    return own


def _identity_queries(
    engine: Engine, workspace_id: int, goals: list[Goal], identities: Collection[str]
) -> dict[str, Any]:
    """The rows that can belong to `identities` (a superset: the builder keeps the rows whose
    identity is one of them), found through the indexes on the ids, as
    `collected._identity_rows` finds them: the events and touchpoints of their user ids, of
    their anonymous ids without a user id, the touchpoints and human clicks of their
    recipients (and of the recipients that are their users) without a user id; and those of
    the ids their names give (an id no fact joined to another), visitors' clicks included."""
    read, n, r, t = _columns(), identity_nodes.c, recipients.c, touchpoints.c
    own = _own_ids(identities)
    # Common table expressions, written once a query: nested compound selects are not SQLite's.
    mine = (
        select(n.kind, n.id)
        .where(n.workspace_id == workspace_id, n.identity.in_(listed(engine, sorted(identities))))
        .cte("mine")
    )

    def ids(kind: str) -> Any:
        of_nodes = select(mine.c.id).where(mine.c.kind == kind)
        if not own[kind]:
            return of_nodes
        either = union(of_nodes, listed(engine, own[kind])).cte(f"{kind}_ids")
        return select(either.c[0])

    users, anonymous = ids("user"), ids("anon")
    named = union(
        ids("recipient"),
        select(r.public_id).where(r.workspace_id == workspace_id, r.kind == "user",
                                  r.key.in_(users)),
    ).cte("named")  # fmt: skip
    of_named = select(named.c.id)
    ws = events.c.workspace_id == workspace_id
    by_user = events.c.user_id.in_(users)
    by_anonymous = and_(events.c.anonymous_id.in_(anonymous), events.c.user_id.is_(None))

    def of_events(name: str, *where: Any) -> Any:
        return union_all(*(select(*read[name]).where(ws, by, *where)
                           for by in (by_user, by_anonymous)))  # fmt: skip

    touch_ws, untied = t.workspace_id == workspace_id, t.user_id.is_(None)
    of_touches = [
        select(*read["tp_in"]).where(touch_ws, t.user_id.in_(users)),
        select(*read["tp_in"]).where(touch_ws, t.anonymous_id.in_(anonymous), untied),
        select(*read["tp_in"]).where(touch_ws, t.recipient.in_(of_named), untied),
    ]
    # Recipients by their (unique) public ids alone (`collected._CLICKS_OF_ONE`).
    of_clicks = [
        select(*read["ck_in"]).where(
            clicks.c.recipient_id.in_(select(r.id).where(r.public_id.in_(of_named))), *_HUMAN
        )
    ]
    if own["visitor"]:  # no index serves these: scanned only when asked for
        visitors = listed(engine, own["visitor"])
        of_touches.append(
            select(*read["tp_in"]).where(
                touch_ws, t.visitor.in_(visitors), untied,
                t.anonymous_id.is_(None), t.recipient.is_(None),
            )
        )  # fmt: skip
        of_clicks.append(
            select(*read["ck_in"]).where(
                clicks.c.visitor.in_(visitors), clicks.c.recipient_id.is_(None), *_HUMAN
            )
        )
    stored = union(*of_touches)
    touched = stored.cte("touched")
    return {
        "ev_in": of_events("ev_in"),
        "tp_in": stored,
        "ck_in": union_all(*of_clicks) if len(of_clicks) > 1 else of_clicks[0],
        "links_in": select(*read["links_in"]).where(links.c.workspace_id == workspace_id),
        "recipients_in": union(
            select(*read["recipients_in"]).where(r.public_id.in_(of_named)),
            select(*read["recipients_in"]).where(r.public_id.in_(select(touched.c.recipient))),
        ),
        "nodes_in": select(*read["nodes_in"]).where(
            n.workspace_id == workspace_id, n.identity.in_(listed(engine, sorted(identities)))
        ),
        "goal_in": of_events("goal_in", _is_goal(goals)),
    }


def _sql(engine: Engine, found: dict[str, Any]) -> dict[str, str]:
    """The queries as SQL text for the store's dialect (values bound as literals: ADBC runs
    plain text)."""
    dialect = engine.dialect
    return {
        name: str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        for name, query in found.items()
    }


@dataclass(frozen=True, slots=True)
class Rows:
    """What a build of the whole workspace up to given ids read: every input table, the largest
    id of each `SPANNED` table it holds, and the traffic of the click landings.
    A later build passes it as `collected_journeys(since=…)` to read only what is new."""

    tables: dict[str, pa.Table]
    upto: tuple[int, ...]
    traffic: pa.Table


#: The chunks an appended table may gather from added reads before they are made one.
_CHUNKS: Final = 64


def _read(
    engine: Engine,
    workspace_id: int,
    goals: list[Goal],
    identities: Collection[str] | None,
    upto: tuple[int, ...] | None,
    since: Rows | None,
    apart: bool | None,
) -> dict[str, pa.Table]:
    """The input tables: those of `identities`, or the workspace's up to `upto`; with `since`,
    the rows of the appended tables after it added to its own (the rest read whole)."""
    if identities is not None:
        queries = _sql(engine, _identity_queries(engine, workspace_id, goals, identities))
        many = len(identities)
    else:
        ends: tuple[int | None, ...] = upto if upto is not None else (None,) * len(SPANNED)
        starts = since.upto if since is not None else (0,) * len(SPANNED)
        span = tuple(zip(starts, ends, strict=True))
        queries = _sql(engine, _workspace_queries(workspace_id, goals, span))
        many = (
            _stored_rows(engine)
            if since is None or upto is None
            else sum(end - start for start, end in zip(starts, upto, strict=True))
        )
    if apart is None:
        apart = many >= _APART_FROM
    tables = read_arrow(engine, queries, apart=apart)
    if since is not None:
        for name in APPENDED:
            added = pa.concat_tables(
                [since.tables[name], tables[name]], promote_options="permissive"
            )
            # one chunk per added read: a helper that runs for days would scan thousands
            tables[name] = added.combine_chunks() if added.column(0).num_chunks > _CHUNKS else added
    return tables


def _traffic(con: duckdb.DuckDBPyConnection, known: pa.Table | None) -> pa.Table:
    """The traffic source of each distinct (landing URL, referrer) of the clicks: those of
    `known`, and the others worked out now."""
    found = sql.DISTINCT_LANDINGS
    if known is not None:
        con.register("known_in", known)
        found = f"SELECT * FROM ({found}) ANTI JOIN known_in USING (url, referrer)"
    landings = con.execute(found).fetchall()
    names = ("source", "medium", "campaign", "content", "term", "channel")
    columns: dict[str, list[str | None]] = {"url": [], "referrer": [], **{n: [] for n in names}}
    for url, referrer in landings:
        touch = click_touchpoint(
            click_id=0, clicked_at=_EPOCH, destination=url, referrer=referrer or None
        )
        columns["url"].append(url)
        columns["referrer"].append(referrer)
        for name in names:
            columns[name].append(getattr(touch, name))
    new = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return new if known is None else pa.concat_tables([known, new])


def _amount(pointer: str) -> str:
    """SQL: the decimal text of the property at JSON `pointer` when it is a number or a string
    `Decimal` reads, else NULL (`journey_rows._amount`)."""
    at = f"properties, {sql_text(pointer)}"
    text = f"trim(json_extract_string({at}), {sql_text(_SPACES)})"
    return f"""CASE WHEN json_type(properties) <> 'OBJECT' THEN NULL
      WHEN json_type({at}) IN ({_NUMBER_TYPES}) THEN json_extract_string({at})
      WHEN json_type({at}) = 'VARCHAR' AND regexp_full_match({text}, {sql_text(_DECIMAL)})
        THEN replace({text}, '_', '') END"""


def _value(goals: list[Goal]) -> str:
    valued = [g for g in goals if g.revenue]
    if not valued:
        return "NULL::VARCHAR"
    cases = " ".join(
        f"WHEN {sql_text(g.event)} THEN {_amount(_pointer(str(g.revenue)))}" for g in valued
    )
    return f"CASE goal {cases} END"


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def day_micros(day: date) -> int:
    """The first microsecond of `day` (UTC), since the epoch: how the builder's times count."""
    return int((datetime(day.year, day.month, day.day, tzinfo=UTC) - _EPOCH).total_seconds()) * (
        _MICROS
    )


@dataclass(slots=True)
class Journeys:
    """One workspace's arrivals and conversions, held in a DuckDB connection."""

    con: duckdb.DuckDBPyConnection
    goals: tuple[Goal, ...]
    rows: Rows | None = None  # what it was built from (a whole workspace's read up to ids)

    def default_goal(self) -> str | None:
        """`service.attribution.default_goal`: None when the workspace has no goal."""
        if not self.goals:
            return None
        value: dict[str, Decimal] = defaultdict(Decimal)
        count: dict[str, int] = defaultdict(int)
        for goal, amount, n in self.con.execute(sql.GOAL_AMOUNTS).fetchall():
            if amount is not None:
                value[goal] += Decimal(amount) * n
            count[goal] += n
        return best_goal(self.goals, value, count).event

    def build(self, goal: str | None, start: date | None = None, end: date | None = None) -> str:
        """Make the table `journeys` (the DESIGN §7 columns, `content`, and `line`) of `goal`'s
        conversions on days `start`..`end` and the arrivals up to `end`; return its name."""
        after = day_micros(start) if start is not None else -(1 << 62)
        until = day_micros(end + timedelta(days=1)) if end is not None else 1 << 62
        self.con.execute(
            sql.JOURNEYS.format(
                goal="NULL" if goal is None else sql_text(goal), start=after, end=until
            )
        )
        return "journeys"

    def build_anchored(
        self, goal: str, campaign: str, window: int, anchors: pa.Table, exposures: pa.Table
    ) -> str:
        """Make the table `journeys` of a campaign's lift: every arrival, `goal`'s conversions
        from each identity's first send (`anchors`: who, start in µs since the epoch) to
        `window` seconds after, and the campaign's sends as exposures (`exposures`: who,
        second) after them; return its name."""
        self.con.register("anchors_in", anchors)
        self.con.register("exposures_in", exposures)
        self.con.execute(
            sql.ANCHORED.format(
                goal=sql_text(goal), campaign=sql_text(campaign), window=window * _MICROS
            )
        )
        return "journeys"

    def csv_text(self) -> str:
        """Every arrival and every goal's conversion as the DESIGN §7 CSV, what
        `journey_csv(load_collected(…).journey_rows())` writes (`tagtrail export`, `GET
        /api/journeys`): rows sorted, quoted and joined in SQL, each distinct text of a revenue
        property formatted as a value by the same Python rule (`value_text`). A million
        identities' rows in ~1 s; through Python tuples and `csv.writer` it took 9 s."""
        found = self.con.execute("SELECT DISTINCT amount FROM conversions").fetchall()
        amounts = [amount for (amount,) in found]
        self.con.register(
            "values_in",
            pa.table(
                {
                    "amount": pa.array(amounts, pa.string()),
                    "text": pa.array([value_text(a) for a in amounts], pa.string()),
                }
            ),
        )
        rows = self.con.execute(sql.EXPORT).fetchone()
        header = ",".join(JOURNEY_COLUMNS) + "\n"
        return header + (rows[0] if rows and rows[0] else "")

    def export_parquet(self, path: Path) -> Path:
        """The table `journeys` as a Parquet events file (DESIGN §7 columns and `content`, in
        file order)."""
        target = sql_text(str(path))
        self.con.execute(
            'COPY (SELECT * EXCLUDE (line) REPLACE (make_timestamptz("timestamp" * 1000000) AS'
            f' "timestamp") FROM journeys ORDER BY line) TO {target} (FORMAT parquet)'
        )
        return path


#: A read of fewer identities, or of a store of fewer rows, than this is made in this process
#: (no child process to start: a small store's journeys build in milliseconds).
_APART_FROM: Final = 100_000


@contextmanager
def collected_journeys(
    engine: Engine,
    workspace_id: int,
    *,
    timeout: timedelta = timedelta(minutes=30),
    new_session_on_campaign_change: bool = False,
    identities: Collection[str] | None = None,
    upto: tuple[int, ...] | None = None,
    since: Rows | None = None,
    apart: bool | None = None,
) -> Iterator[Journeys]:
    """The workspace's arrivals and conversions in a fresh DuckDB connection, closed on exit;
    with `identities`, only theirs, from their own rows (what a campaign's lift reads).
    `upto`: the largest ids of `SPANNED` to read (the store's version; None: every row);
    `since`: the `Rows` of an earlier build of the same workspace and goals, with no
    `journeys` bump in between, whose appended tables' rows are not read again (only those
    after them, up to `upto`). `apart`: whether SQLite's rows are read in a child process
    (`store.arrow.read_arrow`); None: when there are many (`_APART_FROM` identities asked
    for, or rows to read)."""
    if timeout <= timedelta(0):
        raise ValueError("the session timeout must be positive")
    if since is not None and (identities is not None or upto is None):
        raise ValueError("an added read needs the ids up to which both reads go")
    catch_up(engine)  # rows a bulk load or an older version stored, not folded yet
    goals = list_goals(engine, workspace_id)
    tables = _read(engine, workspace_id, goals, identities, upto, since, apart)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        # Every order the rows need is an ORDER BY: tables may be materialised in any order,
        # which halved the time of `kept` (1.8 → 1.0 s at 1.5M touches).
        con.execute("SET preserve_insertion_order = false")
        for name, table in tables.items():
            con.register(name, table)
        con.register(
            "goals_in",
            pa.table(
                {
                    "event": pa.array([g.event for g in goals], pa.string()),
                    "revenue": pa.array([g.revenue for g in goals], pa.string()),
                    "position": pa.array(range(len(goals)), pa.int64()),
                }
            ),
        )
        known = since.traffic if since is not None else None
        traffic = _build(con, timeout, new_session_on_campaign_change, goals, known)
        if identities is not None:
            con.register("wanted_in", pa.table({"who": pa.array(list(identities), pa.string())}))
            con.execute(sql.ONLY_WANTED)
        rows = Rows(tables, upto, traffic) if identities is None and upto is not None else None
        yield Journeys(con, tuple(goals), rows)
    finally:
        con.close()


def _stored_rows(engine: Engine) -> int:
    """About how many collected rows the store holds (the largest ids: index probes)."""
    largest = [select(func.coalesce(func.max(t.c.id), 0)).scalar_subquery()
               for t in (events, touchpoints, clicks)]  # fmt: skip
    with engine.connect() as conn:
        return int(sum(conn.execute(select(*largest)).one()))


def _build(
    con: duckdb.DuckDBPyConnection,
    timeout: timedelta,
    campaigns: bool,
    goals: list[Goal],
    known: pa.Table | None,
) -> pa.Table:
    """Build the journeys from the input tables; return the click landings' traffic (`known`:
    an earlier build's, whose landings are not worked out again)."""
    con.execute(sql.INPUTS)
    traffic = _traffic(con, known)
    con.register("traffic_in", traffic)
    con.execute(sql.SOURCES)
    window = CLICK_LANDING_WINDOW // timedelta(microseconds=1)
    con.execute("CREATE TEMP TABLE touches AS " + sql.with_identity(sql.TOUCH_ROWS))
    con.execute(sql.KEPT.format(window=window))
    con.execute("DROP TABLE touches")
    events = sql.with_identity(sql.HIT_EVENTS)
    con.execute(sql.HITS.format(events=events))
    con.execute(sql.STREAMS.format(timeout=timeout // timedelta(microseconds=1), stream=sql.STREAM))
    con.execute("DROP TABLE hits")
    streams = "streams"
    if campaigns:
        con.execute(sql.CAMPAIGN_SPLITS.format(stream=sql.STREAM))
        streams = "split"
    con.execute(sql.ARRIVALS.format(streams=streams, stream=sql.STREAM))
    con.execute(sql.CONVERSIONS.format(amount=_value(goals), rows=sql.with_identity(sql.GOAL_ROWS)))
    return traffic


def journeys_csv(engine: Engine, workspace_id: int, **options: Any) -> str:
    """The workspace's journeys as the DESIGN §7 CSV (`Journeys.csv_text`); `options` are
    `collected_journeys`'."""
    with collected_journeys(engine, workspace_id, **options) as found:
        return found.csv_text()
