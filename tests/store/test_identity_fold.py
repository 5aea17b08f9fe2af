"""The stored identity mapping against the from-scratch resolver (the oracle).

Random interleavings of identify, alias, page, track, identity-hint and short-link-click rows,
stored in a random arrival order and in random groups through the writer (`GroupWriter`, which
folds after each commit), must give exactly what `load_collected` resolves from scratch: every
id's identity, every refused merge, every user's profile, every identity's arrivals and
conversions. On SQLite and PostgreSQL. Also: a catch-up fold of a store written without folds,
resumed after an interruption, and a merge refused as from scratch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select

from tagtrail.collect.normalize import normalize
from tagtrail.collect.schema import parse_event
from tagtrail.service.collect import event_row
from tagtrail.service.collected import (
    load_collected,
    load_identity,
    profile_of,
    user_profile,
)
from tagtrail.service.goals import add_goal
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.links import LinkSpec, create_link
from tagtrail.store import identities
from tagtrail.store.schema import (
    clicks,
    events,
    identity_facts,
    recipients,
    rollup_marks,
    workspaces,
)
from tagtrail.store.writer import GroupWriter

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ANONS = ("a1", "a2", "a3", "a4", "a5")
USERS = ("u1", "u2", "u3", "u4")
#: public id → (kind, key): two recipients that are users, one an email address.
RECIPIENTS = {"p1": ("user", "u1"), "p2": ("user", "u3"), "p3": ("email", "e" * 64)}
PAGES = (
    "https://shop.example/",
    "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
    "https://shop.example/?utm_source=facebook&utm_medium=social&utm_campaign=spring",
    "https://shop.example/pricing",
)
REFERRERS = ("", "https://www.google.com/", "https://news.ycombinator.com/")
LANDING = "https://shop.example/offer?utm_source=sms&utm_medium=sms&utm_campaign=spring"

minutes = st.integers(min_value=0, max_value=600)
anon = st.sampled_from(ANONS)
user = st.sampled_from(USERS)
maybe_anon = st.one_of(st.none(), anon)

identify = st.tuples(st.just("identify"), minutes, anon, user)
alias = st.tuples(st.just("alias"), minutes, st.sampled_from(ANONS + USERS), user)
page = st.tuples(
    st.just("page"), minutes, anon, st.one_of(st.none(), user), st.sampled_from(PAGES),
    st.sampled_from(REFERRERS),
)  # fmt: skip
track = st.tuples(
    st.just("track"), minutes, maybe_anon, st.one_of(st.none(), user),
    st.sampled_from(("Signed Up", "Order Completed", "Viewed")),
)  # fmt: skip
hint = st.tuples(st.just("hint"), minutes, anon, st.sampled_from(sorted(RECIPIENTS)))
click = st.tuples(
    st.just("click"), minutes, st.one_of(st.none(), st.sampled_from(sorted(RECIPIENTS))),
    st.sampled_from(("v1", "v2")),
)  # fmt: skip
actions = st.lists(st.one_of(identify, alias, page, track, hint, click), min_size=1, max_size=30)


def _workspace(engine: Engine) -> tuple[int, dict[str, int], int]:
    """A new workspace with the recipients, the two goals and a link: (id, recipient ids, link)."""
    now = datetime(2026, 5, 1)
    with engine.begin() as conn:
        ws = conn.execute(
            insert(workspaces)
            .values(
                name="oracle", default_utm="{}", identify=True, excluded_domains="[]",
                created_at=now,
            )
            .returning(workspaces.c.id)
        ).scalar_one()  # fmt: skip
        ids = {}
        for public, (kind, key) in RECIPIENTS.items():
            ids[public] = conn.execute(
                insert(recipients)
                .values(
                    workspace_id=ws, public_id=f"{public}-{ws}", kind=kind, key=key,
                    created_at=now,
                )
                .returning(recipients.c.id)
            ).scalar_one()  # fmt: skip
    add_goal(engine, ws, "Signed Up", None, now=now)
    add_goal(engine, ws, "Order Completed", "revenue", now=now)
    link = create_link(
        engine, ws, LinkSpec(
            url="https://shop.example/offer", campaign="spring",
            utm={"source": "sms", "medium": "sms"},
        ),
        origin="https://go.example", now=now,
    )  # fmt: skip
    return ws, ids, link.id


def _event(ws: int, n: int, body: dict[str, Any], kind: Any, when: datetime) -> dict[str, Any]:
    body = {"messageId": f"m{n}", "timestamp": when.isoformat(), **body}
    event = normalize(parse_event(body, kind=kind), received_at=when + timedelta(seconds=1))
    return event_row(ws, event, site_hosts=("shop.example",))


def _rows(ws: int, ids: dict[str, int], link: int, items: list[tuple[Any, ...]]) -> list[Any]:
    """Each action as (table, row)."""
    out: list[Any] = []
    for n, (kind, at, *rest) in enumerate(items):
        when = START + timedelta(minutes=at)
        if kind == "identify":
            out.append(
                (events, _event(ws, n, {"anonymousId": rest[0], "userId": rest[1]}, kind, when))
            )
        elif kind == "alias":
            out.append(
                (events, _event(ws, n, {"previousId": rest[0], "userId": rest[1]}, kind, when))
            )
        elif kind == "page":
            anon_id, user_id, url, referrer = rest
            body = {"anonymousId": anon_id, "properties": {"url": url, "referrer": referrer}}
            if user_id:
                body["userId"] = user_id
            out.append((events, _event(ws, n, body, "page", when)))
        elif kind == "track":
            anon_id, user_id, name = rest
            body = {"event": name, "properties": {"revenue": 10 + n}}
            if anon_id:
                body["anonymousId"] = anon_id
            if user_id:
                body["userId"] = user_id
            if not anon_id and not user_id:
                body["anonymousId"] = "a1"
            out.append((events, _event(ws, n, body, "track", when)))
        elif kind == "hint":
            anon_id, public = rest
            kind_, key = RECIPIENTS[public]
            out.append(
                (identity_facts, {
                    "workspace_id": ws, "message_id": f"m{n}", "kind": "hint",
                    "timestamp": when.replace(tzinfo=None), "anonymous_id": anon_id,
                    "user_id": key if kind_ == "user" else None, "previous_id": None,
                    "recipient": f"{public}-{ws}",
                })
            )  # fmt: skip
        else:
            public, visitor = rest
            out.append(
                (clicks, {
                    "link_id": link, "clicked_at": when.replace(tzinfo=None),
                    "recipient_id": ids[public] if public else None, "ip": None,
                    "user_agent": "Mozilla/5.0", "referrer": "", "method": "GET",
                    "is_bot": False, "bot_reasons": "", "visitor": visitor,
                    "identified": public is not None, "url": LANDING,
                })
            )  # fmt: skip
    return out


def _same_as_from_scratch(engine: Engine, ws: int) -> None:
    oracle = load_collected(engine, ws)
    with engine.connect() as conn:
        stored = identities.graph_of(conn, ws)
    assert dict(stored.users) == dict(oracle.graph.users)
    assert dict(stored.anonymous) == dict(oracle.graph.anonymous)
    assert dict(stored.recipients) == dict(oracle.graph.recipients)
    assert stored.conflicts == oracle.graph.conflicts
    for user_id in oracle.graph.users:
        assert user_profile(engine, ws, user_id) == profile_of(oracle, user_id)
    for identity in set(oracle.graph.users.values()) | set(oracle.graph.anonymous.values()):
        one = load_identity(engine, ws, identity)
        assert one.arrivals.get(identity, []) == oracle.arrivals.get(identity, [])
        # (a read's conversions come in the order its rows do: the journeys sort them)
        assert _in_time_order(one.conversions.get(identity, [])) == _in_time_order(
            oracle.conversions.get(identity, [])
        )
        assert one.journey_rows() == [r for r in oracle.journey_rows() if r.user_id == identity]


def _in_time_order(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda c: (c.timestamp, c.message_id))


@pytest.fixture
def workspace_source(engine: Engine) -> Engine:
    ensure_workspace(engine, now=datetime(2026, 5, 1))
    return engine


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=actions, data=st.data())
def test_the_folded_mapping_equals_the_from_scratch_resolution(
    workspace_source: Engine, items: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    engine = workspace_source
    ws, ids, link = _workspace(engine)
    rows = data.draw(st.permutations(_rows(ws, ids, link, items)), label="arrival order")
    writer = GroupWriter(engine)
    try:
        while rows:
            size = data.draw(st.integers(min_value=1, max_value=len(rows)), label="group")
            group, rows = rows[:size], rows[size:]
            writer.commit([(table, [row]) for table, row in group])
    finally:
        writer.close()
    _same_as_from_scratch(engine, ws)


def test_a_store_written_without_folds_catches_up_resumably(workspace_source: Engine) -> None:
    engine = workspace_source
    ws, ids, link = _workspace(engine)
    items = [
        ("identify", 5, "a1", "u1"), ("page", 1, "a1", None, PAGES[1], ""),
        ("identify", 9, "a2", "u1"), ("identify", 3, "a2", "u2"), ("alias", 20, "u2", "u4"),
        ("click", 30, "p1", "v1"), ("hint", 40, "a3", "p3"), ("page", 41, "a3", None, PAGES[2], ""),
        ("track", 50, "a1", None, "Order Completed"),
    ]  # fmt: skip
    with engine.begin() as conn:  # as a bulk load or an older version wrote them
        for table, row in _rows(ws, ids, link, items):
            conn.execute(insert(table).values(row))
    with engine.connect() as conn:
        assert identities.pending(conn)["events"] > 0
    with engine.connect() as conn:  # an interrupted catch-up: one small chunk committed
        assert identities.fold_once(conn, chunk=2) > 0
    seen: list[int] = []
    identities.fold_all(engine, chunk=3, progress=seen.append)
    assert seen and all(0 < n <= 3 * len(identities.SOURCES) for n in seen)
    with engine.connect() as conn:
        assert not any(identities.pending(conn).values())
        marks = dict(conn.execute(select(rollup_marks.c.name, rollup_marks.c.mark)).all())
    assert marks["identity:events"] == _highest(engine)
    _same_as_from_scratch(engine, ws)
    found = user_profile(engine, ws, "u1")
    assert found["conflicts"] == [
        {"kind": "anonymous", "id": "a2", "kept": "u4", "refused": "u1"}
    ]  # a2 was u2's first (3 min), renamed u4 by the alias; u1's later claim is refused


def _highest(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(events.c.id).order_by(events.c.id.desc())).first()[0])
