"""The read side of collection: stored rows → identity graph → sessions → arrivals → profiles and
journey rows (docs/collect.md, DESIGN §7).

`load_collected` reads one workspace whole: every identity fact (events that carry a user id or
alias, verified hints, short-link clicks whose recipient is a user), every touchpoint (events',
imported ones, and human short-link clicks: a click row with its landing `url` is a touchpoint,
`click_touchpoint`), every other event as a session hit, and the goal events. The graph is
resolved from scratch on each read, so merges are retroactive and arrival order never matters.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, or_, select

from tagtrail.collect import (
    Conversion,
    Goal,
    Hit,
    IdentityFact,
    IdentityGraph,
    JourneyRow,
    NormalizedEvent,
    Profile,
    Touchpoint,
    arrivals,
    click_touchpoint,
    conversion_for,
    drop_click_landings,
    journey_rows,
    profile,
    resolve,
    sessionize,
)
from tagtrail.collect.identity import FactKind
from tagtrail.errors import NotFound
from tagtrail.service.goals import list_goals
from tagtrail.store.identities import catch_up, graph_of_identities, identity_of_user
from tagtrail.store.schema import clicks, events, identity_facts, links, recipients, touchpoints


@dataclass(frozen=True, slots=True)
class Collected:
    """One workspace's collected data, resolved."""

    graph: IdentityGraph
    arrivals: dict[str, list[Touchpoint]]
    conversions: dict[str, list[Conversion]]
    goals: tuple[Goal, ...] = ()  # the workspace's goals, in the order they were added

    def journey_rows(self) -> list[JourneyRow]:
        return journey_rows(self.arrivals, self.conversions)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _event_fact(row: Any) -> IdentityFact | None:
    when = _utc(row.timestamp)
    if row.type == "alias":
        return IdentityFact("alias", when, row.anonymous_id, row.user_id, row.previous_id)
    if row.user_id is None:
        return None  # an anonymous id alone links nothing: identity_of knows it anyway
    kind: FactKind = "identify" if row.type == "identify" else "event"
    return IdentityFact(kind, when, row.anonymous_id, row.user_id)


def _event_touch(row: Any) -> Touchpoint:
    return Touchpoint(
        message_id=row.message_id,
        timestamp=_utc(row.timestamp),
        kind=row.tp_kind,
        source=row.tp_source,
        medium=row.tp_medium,
        campaign=row.tp_campaign,
        content=row.tp_content,
        term=row.tp_term,
        channel=row.tp_channel,
        click_id=row.tp_click_id,
        referrer=row.referrer,
        url=row.url,
        anonymous_id=row.anonymous_id,
        user_id=row.user_id,
    )


def _stored_touch(row: Any, users: dict[str, str]) -> Touchpoint:
    user = row.user_id or (users.get(row.recipient) if row.recipient else None)
    return Touchpoint(
        message_id=row.message_id,
        timestamp=_utc(row.timestamp),
        kind=row.kind,
        source=row.source,
        medium=row.medium,
        campaign=row.campaign,
        content=row.content,
        term=row.term,
        channel=row.channel,
        click_id=row.click_id,
        referrer=row.referrer,
        url=row.url,
        anonymous_id=row.anonymous_id,
        user_id=user,
        recipient=row.recipient,
        visitor=row.visitor,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _ClickTouches:
    """Human click rows → their touchpoints; the traffic source (the URL's UTMs, else the
    referrer) is worked out once per (url, referrer): a campaign's clicks share a handful."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.traffic: dict[tuple[str, str | None], Touchpoint] = {}

    def touch(self, row: Any) -> Touchpoint:
        referrer = row.referrer or None
        key = (row.url, referrer)
        traffic = self.traffic.get(key)
        if traffic is None:
            traffic = self.traffic[key] = click_touchpoint(
                click_id=0, clicked_at=_EPOCH, destination=row.url, referrer=referrer
            )
        recipient = row.public_id
        return replace(
            traffic,
            message_id=f"click:{row.id}",
            timestamp=_utc(row.clicked_at),
            user_id=self.users.get(recipient) if recipient else None,
            recipient=recipient,
            visitor=row.visitor,
        )


def _conversion(row: Any, goals: list[Goal]) -> Conversion | None:
    try:
        properties = json.loads(row.properties or "{}")
    except ValueError:
        properties = {}
    when = _utc(row.timestamp)
    event = NormalizedEvent(
        message_id=row.message_id,
        type="track",
        timestamp=when,
        received_at=when,
        event=row.event,
        properties=properties if isinstance(properties, dict) else {},
    )
    return conversion_for(event, goals)


_EVENT_COLUMNS = (
    events.c.message_id,
    events.c.type,
    events.c.timestamp,
    events.c.anonymous_id,
    events.c.user_id,
    events.c.previous_id,
    events.c.referrer,
    events.c.url,
    *(c for c in events.c if c.name.startswith("tp_")),
)
_CLICK_COLUMNS = (
    clicks.c.id,
    clicks.c.clicked_at,
    clicks.c.url,
    clicks.c.referrer,
    clicks.c.visitor,
    recipients.c.public_id,
)
_HUMAN_CLICKS = clicks.join(links, links.c.id == clicks.c.link_id).outerjoin(
    recipients, recipients.c.id == clicks.c.recipient_id
)


@dataclass(frozen=True, slots=True)
class _Rows:
    """The stored rows a read assembles: events, imported touchpoints, human clicks, the goal
    events, and which recipient public ids are users (public id → user id)."""

    events: Sequence[Any]
    stored: Sequence[Any]
    human_clicks: Sequence[Any]
    goal_rows: Sequence[Any]
    users: dict[str, str]


def _user_recipients(conn: Connection, workspace_id: int) -> dict[str, str]:
    found = conn.execute(_USER_RECIPIENTS, {"ws": workspace_id})
    return {str(r.public_id): str(r.key) for r in found}


def _is_goal(goals: Sequence[Goal]) -> Any:
    return and_(events.c.type == "track", or_(*(events.c.event == g.event for g in goals)))


def _workspace_rows(conn: Connection, workspace_id: int, goals: Sequence[Goal]) -> _Rows:
    ws_events = events.c.workspace_id == workspace_id
    goal_rows: Sequence[Any] = []
    if goals:
        goal_rows = conn.execute(
            select(events.c.message_id, events.c.timestamp, events.c.event)
            .add_columns(events.c.properties, events.c.anonymous_id, events.c.user_id)
            .where(ws_events, _is_goal(goals))
        ).all()
    return _Rows(
        events=conn.execute(select(*_EVENT_COLUMNS).where(ws_events)).all(),
        stored=conn.execute(
            select(touchpoints).where(touchpoints.c.workspace_id == workspace_id)
        ).all(),
        human_clicks=conn.execute(
            select(*_CLICK_COLUMNS)
            .select_from(_HUMAN_CLICKS)
            .where(links.c.workspace_id == workspace_id, *_HUMAN)
        ).all(),
        goal_rows=goal_rows,
        users=_user_recipients(conn, workspace_id),
    )


_HUMAN = (clicks.c.is_bot.is_(False), clicks.c.url.is_not(None))


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


_WS: Any = bindparam("ws")
_E, _T, _R = events.c, touchpoints.c, recipients.c
# The statements of one identity's read, built once (bound: ws, users, anons, named). One query
# per id kind, each on its own index (an OR of them makes SQLite scan the workspace). A row with
# a user id belongs to that user: the query by user ids finds it, or it is another identity's.
_ONE_EVENTS = select(*_EVENT_COLUMNS, _E.event, _E.properties).where(_E.workspace_id == _WS)
# (statement, the id list it binds)
_EVENTS_OF_ONE = (
    (_ONE_EVENTS.where(_E.user_id.in_(_ids("users"))), "users"),
    (_ONE_EVENTS.where(_E.anonymous_id.in_(_ids("anons")), _E.user_id.is_(None)), "anons"),
)
_TOUCHPOINTS_OF_ONE = tuple(
    (select(touchpoints).where(_T.workspace_id == _WS, where), name)
    for where, name in (
        (_T.user_id.in_(_ids("users")), "users"),
        (and_(_T.anonymous_id.in_(_ids("anons")), _T.user_id.is_(None)), "anons"),
        (and_(_T.recipient.in_(_ids("named")), _T.user_id.is_(None)), "named"),
    )
)
_USER_RECIPIENTS = select(_R.public_id, _R.key).where(_R.workspace_id == _WS, _R.kind == "user")
_RECIPIENTS_OF_USERS = _USER_RECIPIENTS.where(_R.key.in_(_ids("users")))
_RECIPIENTS_NAMED = _USER_RECIPIENTS.where(_R.public_id.in_(_ids("named")))
# The recipients by their (unique) public ids alone, the workspace through the clicks' links: with
# `recipients.workspace_id` in the subquery SQLite walked the workspace's recipients instead, for
# every list of a few thousand ids (15 s for a campaign of a million).
_CLICKS_OF_ONE = (
    select(*_CLICK_COLUMNS)
    .select_from(_HUMAN_CLICKS)
    .where(
        links.c.workspace_id == _WS,
        clicks.c.recipient_id.in_(select(_R.id).where(_R.public_id.in_(_ids("named")))),
        *_HUMAN,
    )
    .order_by(clicks.c.id)
)


#: Ids bound per IN list: SQLite's bound-parameter limit (32,766) with room to spare.
_IDS_PER_QUERY = 2_000


def _by_ids(conn: Connection, query: Any, bound: dict[str, Any], name: str) -> list[Any]:
    """The rows of `query` for the ids of `bound[name]`, bound a chunk at a time."""
    ids = bound[name]
    return [
        row
        for start in range(0, len(ids), _IDS_PER_QUERY)
        for row in conn.execute(query, {**bound, name: ids[start : start + _IDS_PER_QUERY]})
    ]


def _identity_rows(
    conn: Connection, workspace_id: int, graph: IdentityGraph, goals: Sequence[Goal]
) -> _Rows:
    """The rows that can belong to the identities whose ids `graph` holds (a superset: the
    read keeps those `graph.identity_of` gives them), found through the indexes on the ids."""
    bound: dict[str, Any] = {
        "ws": workspace_id,
        "users": sorted(graph.users),
        "anons": sorted(graph.anonymous),
    }
    users_of = _by_ids(conn, _RECIPIENTS_OF_USERS, bound, "users")
    bound["named"] = sorted(set(graph.recipients) | {str(r.public_id) for r in users_of})
    rows = [row for q, ids in _EVENTS_OF_ONE for row in _by_ids(conn, q, bound, ids)]
    by_id = {row.id: row for q, ids in _TOUCHPOINTS_OF_ONE for row in _by_ids(conn, q, bound, ids)}
    stored = [by_id[k] for k in sorted(by_id)]
    human_clicks = sorted(_by_ids(conn, _CLICKS_OF_ONE, bound, "named"), key=lambda r: r.id)
    users = {str(r.public_id): str(r.key) for r in users_of}
    mentioned = ({r.recipient for r in stored if r.recipient} | set(bound["named"])) - set(users)
    if mentioned:
        more = _by_ids(conn, _RECIPIENTS_NAMED, {**bound, "named": sorted(mentioned)}, "named")
        users.update((str(r.public_id), str(r.key)) for r in more)
    events_of_goals = {g.event for g in goals}
    return _Rows(
        events=rows,
        stored=stored,
        human_clicks=human_clicks,
        goal_rows=[r for r in rows if r.type == "track" and r.event in events_of_goals],
        users=users,
    )


def _touches(rows: _Rows) -> list[Touchpoint]:
    touches = [_event_touch(r) for r in rows.events if r.tp_channel is not None]
    click_touches = _ClickTouches(rows.users)
    touches += [_stored_touch(row, rows.users) for row in rows.stored]
    touches += map(click_touches.touch, rows.human_clicks)
    return touches


def _facts(rows: _Rows, extra: Sequence[Any], touches: Sequence[Touchpoint]) -> list[IdentityFact]:
    facts = [f for f in map(_event_fact, rows.events) if f is not None]
    facts += [
        IdentityFact(
            r.kind, _utc(r.timestamp), r.anonymous_id, r.user_id, r.previous_id, r.recipient
        )
        for r in extra
    ]
    facts += [
        IdentityFact("recipient", t.timestamp, recipient=t.recipient, user_id=t.user_id)
        for t in touches
        if t.recipient and t.recipient in rows.users
    ]
    return facts


def _assemble(
    graph: IdentityGraph,
    rows: _Rows,
    touches: Sequence[Touchpoint],
    goals: Sequence[Goal],
    *,
    timeout: timedelta,
    new_session_on_campaign_change: bool,
) -> Collected:
    by_identity: dict[str, list[Touchpoint]] = defaultdict(list)
    for touch in touches:
        who = graph.of_touchpoint(touch)
        if who is not None:
            by_identity[who].append(touch)
    hits: dict[str, list[Hit]] = defaultdict(list)
    for row in rows.events:
        if row.tp_channel is None:
            who = graph.identity_of(user_id=row.user_id, anonymous_id=row.anonymous_id)
            if who is not None:
                hits[who].append(Hit(_utc(row.timestamp), row.message_id, None, row.anonymous_id))
    found: dict[str, list[Touchpoint]] = {}
    for who in set(by_identity) | set(hits):
        kept = drop_click_landings(by_identity.get(who, []))
        sessions = sessionize(
            [*map(Hit.of_touchpoint, kept), *hits.get(who, [])],
            timeout=timeout,
            new_session_on_campaign_change=new_session_on_campaign_change,
        )
        found[who] = arrivals(sessions)
    conversions: dict[str, list[Conversion]] = defaultdict(list)
    for row in rows.goal_rows:
        conv = _conversion(row, list(goals))
        who = graph.identity_of(user_id=row.user_id, anonymous_id=row.anonymous_id)
        if conv is not None and who is not None:
            conversions[who].append(conv)
    arrived = {k: v for k, v in found.items() if v}
    return Collected(graph, arrived, dict(conversions), tuple(goals))


def load_collected(
    engine: Engine,
    workspace_id: int,
    *,
    timeout: timedelta = timedelta(minutes=30),
    new_session_on_campaign_change: bool = False,
) -> Collected:
    """Everything collected in the workspace, as identities with arrivals and conversions,
    with the identity graph resolved from scratch (the oracle of the stored mapping)."""
    goals = list_goals(engine, workspace_id)
    with engine.connect() as conn:
        rows = _workspace_rows(conn, workspace_id, goals)
        extra = conn.execute(
            select(identity_facts).where(identity_facts.c.workspace_id == workspace_id)
        ).all()
    touches = _touches(rows)
    graph = resolve(_facts(rows, extra, touches))
    return _assemble(
        graph,
        rows,
        touches,
        goals,
        timeout=timeout,
        new_session_on_campaign_change=new_session_on_campaign_change,
    )


def load_identity(
    engine: Engine,
    workspace_id: int,
    identity: str,
    *,
    timeout: timedelta = timedelta(minutes=30),
    new_session_on_campaign_change: bool = False,
) -> Collected:
    """One identity's collected data, read through the stored mapping (`store.identities`):
    only its own rows, found by its ids. Equal to `load_collected`'s entry for it."""
    return load_identities(
        engine,
        workspace_id,
        [identity],
        timeout=timeout,
        new_session_on_campaign_change=new_session_on_campaign_change,
    )


def load_identities(
    engine: Engine,
    workspace_id: int,
    identities: Collection[str],
    *,
    timeout: timedelta = timedelta(minutes=30),
    new_session_on_campaign_change: bool = False,
) -> Collected:
    """`load_identity` for several identities at once (a campaign's recipients): only their
    rows, found by their ids, a few thousand ids a query. Equal to `load_collected`'s entries
    for them."""
    goals = list_goals(engine, workspace_id)
    with engine.connect() as conn:
        graph = graph_of_identities(conn, workspace_id, identities)
        rows = _identity_rows(conn, workspace_id, graph, goals)
    touches = _touches(rows)
    found = _assemble(
        graph,
        rows,
        touches,
        goals,
        timeout=timeout,
        new_session_on_campaign_change=new_session_on_campaign_change,
    )
    wanted = set(identities)
    return Collected(
        graph,
        {k: v for k, v in found.arrivals.items() if k in wanted},
        {k: v for k, v in found.conversions.items() if k in wanted},
        found.goals,
    )


def user_journey(
    engine: Engine,
    workspace_id: int,
    user_id: str,
    *,
    timeout: timedelta = timedelta(minutes=30),
    new_session_on_campaign_change: bool = False,
    fold: bool = True,
) -> dict[str, Any]:
    """The user's profile (`profile_of`), arrivals and conversions, oldest first, reading only
    its identity's rows (NotFound for a user id no stored fact names). `fold`: first fold rows
    the mapping lacks (`catch_up`, a few index lookups when there are none), so a reader can
    read its writes: an identify answered a moment ago is in the profile, folded here if the
    writer's fold thread has not come to it yet."""
    if fold:
        catch_up(engine)
    with engine.connect() as conn:
        identity = identity_of_user(conn, workspace_id, user_id)
    if identity is None:
        raise _unknown_user(user_id)
    collected = load_identity(
        engine,
        workspace_id,
        identity,
        timeout=timeout,
        new_session_on_campaign_change=new_session_on_campaign_change,
    )
    return {
        "profile": profile_of(collected, user_id),
        "touches": sorted(collected.arrivals.get(identity, []), key=lambda t: t.timestamp),
        "conversion_list": sorted(
            collected.conversions.get(identity, []), key=lambda c: c.timestamp
        ),
    }


def user_profile(engine: Engine, workspace_id: int, user_id: str, **options: Any) -> dict[str, Any]:
    """`user_journey`'s profile (same options): what `GET /api/profiles/{id}` and `tagtrail
    profile` show."""
    profile: dict[str, Any] = user_journey(engine, workspace_id, user_id, **options)["profile"]
    return profile


def _unknown_user(user_id: str) -> NotFound:
    return NotFound(
        f"no collected user with id {user_id!r}",
        hint="a user id appears once an identify (or any event with a userId) is stored",
    )


def profile_of(collected: Collected, user_id: str) -> dict[str, Any]:
    """The profile of a user id (its identity's first and last touch), or NotFound."""
    identity = collected.graph.users.get(user_id)
    if identity is None:
        raise _unknown_user(user_id)
    found: Profile = profile(identity, collected.arrivals.get(identity, []))
    graph = collected.graph
    return {
        "user_id": user_id,
        **found.to_json(),
        "user_ids": sorted(k for k, v in graph.users.items() if v == identity),
        "anonymous_ids": sorted(k for k, v in graph.anonymous.items() if v == identity),
        "conversions": len(collected.conversions.get(identity, [])),
        "conflicts": [
            {"kind": c.kind, "id": c.id, "kept": c.kept, "refused": c.refused}
            for c in graph.conflicts
            if identity in (c.kept, c.refused)
        ],
    }
