"""The journeys built in the engine (`service.journeys`) against the from-scratch read (the
oracle, `load_collected` + `journey_rows`), on random stores, SQLite and PostgreSQL.

Random identify, alias, page, track, identity-hint, short-link-click (human, bot, without a
landing) and stored-touchpoint rows, at random times (second ties and microseconds included;
a stored touchpoint may reuse an event's message id), are written as a bulk load would write
them; the builder folds the identity mapping itself (`catch_up`). For a random session timeout,
campaign rule, goal, day range and dimension the journey rows, the default goal, the whole
attribution document and the exported CSV (`tagtrail export`, `GET /api/journeys`) must be the
same; and so must the journeys of some of the identities read on their own.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from tagtrail.attribution.registry import MODELS
from tagtrail.collect import JourneyRow, journey_csv
from tagtrail.errors import StoreError
from tagtrail.service.attribution import (
    AttributionQuery,
    _rows,
    collected_attribution,
    default_goal,
    store_attribution,
)
from tagtrail.service.collected import Collected, load_collected
from tagtrail.service.insights import Insights, engine_insights, insights
from tagtrail.service.journeys import SPANNED, collected_journeys
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.reports import Window
from tagtrail.store.database import prepare_store
from tagtrail.store.schema import clicks, events, identity_facts, touchpoints
from tests.store.test_identity_fold import LANDING, PAGES, RECIPIENTS, _event, _workspace

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ANONS = ("a1", "a2", "a3", "a4")
USERS = ("u1", "u2", "u3", "u4")
#: Page URLs: PAGES, and the click's landing (a page view that repeats the click).
URLS = (*PAGES, LANDING)
REFERRERS = ("", "https://www.google.com/", "https://shop.example/cart")
REVENUES = st.one_of(
    st.integers(min_value=-20, max_value=10**6),
    st.floats(min_value=-5, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["12.5", " 7 ", "1_000", "abc", "", "1e3", ".5", "5.", "-3", "Infinity", "NaN", "1.e2"]
    ),
    st.booleans(),
    st.none(),
    st.just([1, 2]),
)

# Seconds from START: a small pool of instants (ties) or any second in three days.
seconds = st.one_of(st.sampled_from((0, 1, 60, 299, 300, 1800)), st.integers(0, 3 * 86_400))
micros = st.one_of(st.just(0), st.integers(0, 999_999))
at = st.tuples(seconds, micros)
anon = st.sampled_from(ANONS)
user = st.sampled_from(USERS)
maybe = st.one_of  # readability: maybe(st.none(), x)

identify = st.tuples(st.just("identify"), at, anon, user)
alias = st.tuples(st.just("alias"), at, st.sampled_from(ANONS + USERS), user)
page = st.tuples(
    st.just("page"), at, anon, maybe(st.none(), user), st.sampled_from(URLS),
    st.sampled_from(REFERRERS),
)  # fmt: skip
track = st.tuples(
    st.just("track"), at, maybe(st.none(), anon), maybe(st.none(), user),
    st.sampled_from(("Signed Up", "Order Completed", "Viewed")), REVENUES,
)  # fmt: skip
hint = st.tuples(st.just("hint"), at, anon, st.sampled_from(sorted(RECIPIENTS)))
click = st.tuples(
    st.just("click"), at, maybe(st.none(), st.sampled_from(sorted(RECIPIENTS))),
    st.sampled_from(("v1", "v2")), st.sampled_from(("human", "human", "bot", "no landing")),
    st.sampled_from((LANDING, PAGES[1], "https://shop.example/plain")),
)  # fmt: skip
stored = st.tuples(
    st.just("stored"), at, st.integers(0, 40), maybe(st.none(), anon), maybe(st.none(), user),
    maybe(st.none(), st.sampled_from(sorted(RECIPIENTS))),
    st.sampled_from((("newsletter", "email", "spring", "Email"), ("(direct)", "(none)",
                     "(direct)", "Direct"), ("sms", "sms", "spring", "SMS"))),
)  # fmt: skip
actions = st.lists(
    st.one_of(identify, alias, page, track, hint, click, stored), min_size=1, max_size=40
)


def _when(offset: tuple[int, int]) -> datetime:
    return START + timedelta(seconds=offset[0], microseconds=offset[1])


def _row(ws: int, ids: dict[str, int], link: int, n: int, item: tuple[Any, ...]) -> Any:
    kind, offset, *rest = item
    when = _when(offset)
    naive = when.replace(tzinfo=None)
    if kind in ("identify", "alias"):
        key = "anonymousId" if kind == "identify" else "previousId"
        return events, _event(ws, n, {key: rest[0], "userId": rest[1]}, kind, when)
    if kind == "page":
        anon_id, user_id, url, referrer = rest
        body: dict[str, Any] = {"anonymousId": anon_id}
        body["properties"] = {"url": url, "referrer": referrer}
        if user_id:
            body["userId"] = user_id
        return events, _event(ws, n, body, "page", when)
    if kind == "track":
        anon_id, user_id, name, revenue = rest
        body = {"event": name, "properties": {"revenue": revenue}}
        body["anonymousId"] = anon_id if anon_id or user_id else "a1"
        if user_id:
            body["userId"] = user_id
        return events, _event(ws, n, body, "track", when)
    if kind == "hint":
        anon_id, public = rest
        kind_, key = RECIPIENTS[public]
        return identity_facts, {
            "workspace_id": ws, "message_id": f"m{n}", "kind": "hint", "timestamp": naive,
            "anonymous_id": anon_id, "user_id": key if kind_ == "user" else None,
            "previous_id": None, "recipient": f"{public}-{ws}",
        }  # fmt: skip
    if kind == "click":
        public, visitor, what, url = rest
        return clicks, {
            "link_id": link, "clicked_at": naive,
            "recipient_id": ids[public] if public else None, "ip": None,
            "user_agent": "Mozilla/5.0", "referrer": "", "method": "GET",
            "is_bot": what == "bot", "bot_reasons": "", "visitor": visitor,
            "identified": public is not None, "url": None if what == "no landing" else url,
        }  # fmt: skip
    number, anon_id, user_id, public, (source, medium, campaign, channel) = rest
    return touchpoints, {
        "workspace_id": ws, "message_id": f"m{number}", "timestamp": naive, "kind": "page",
        "source": source, "medium": medium, "campaign": campaign, "content": None,
        "term": None, "channel": channel, "click_id": None, "referrer": None, "url": None,
        "anonymous_id": anon_id, "user_id": user_id,
        "recipient": f"{public}-{ws}" if public else None, "visitor": None if anon_id else "v9",
    }  # fmt: skip


def _store(engine: Engine, items: list[tuple[Any, ...]]) -> int:
    ws, ids, link = _workspace(engine)
    _write(engine, (ws, ids, link), items, set())
    return ws


def _write(
    engine: Engine,
    workspace: tuple[int, dict[str, int], int],
    items: list[tuple[Any, ...]],
    seen: set[tuple[Any, str]],
    first: int = 0,
) -> None:
    """Write `items` (numbered from `first`) as a bulk load writes them: nothing folded yet;
    a message id already in `seen` is not written again."""
    ws, ids, link = workspace
    with engine.begin() as conn:
        for n, item in enumerate(items, start=first):
            table, row = _row(ws, ids, link, n, item)
            key = (table, row.get("message_id", f"click{n}"))
            if key not in seen:
                seen.add(key)
                conn.execute(insert(table).values(row))


def _engine_rows(found: Any) -> list[tuple[Any, ...]]:
    rows = found.con.execute(
        "SELECT user_id, strftime(make_timestamptz(timestamp * 1000000), '%Y-%m-%dT%H:%M:%SZ'),"
        " type, coalesce(channel, ''),"
        " coalesce(source, ''), coalesce(medium, ''), coalesce(campaign, ''), value,"
        " coalesce(content, '') FROM journeys ORDER BY line"
    ).fetchall()
    return [tuple(r) for r in rows]


def _oracle_rows(rows: list[JourneyRow]) -> list[tuple[Any, ...]]:
    return [
        (*r.as_tuple()[:7], float(r.value) if r.type == "conversion" else None, r.content)
        for r in rows
    ]


def _figures(found: Insights) -> dict[str, Any]:
    """The dashboard's figures, sums to 12 significant digits (floats added in another order)."""

    def rounded(values: Any) -> Any:
        return [float(f"{v:.12g}") for v in values]

    return {
        "by_day": {day: rounded(v) for day, v in found.by_day.items()},
        "totals": (found.conversions, *rounded([found.revenue])),
        "campaigns": {key: rounded(v) for key, v in found.campaigns.items()},
        "landings": {url: rounded(v) for url, v in found.landings.items()},
        "channels": [(name, rounded(v.values())) for name, v in found.channels.items()],
    }


def _strip(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "meta": {k: v for k, v in document["meta"].items() if k != "seconds"}}


options = st.fixed_dictionaries(
    {
        "timeout": st.sampled_from(
            (timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=5))
        ),
        "campaigns": st.booleans(),
        "goal": st.sampled_from((None, "Signed Up", "Order Completed")),
        "start": st.sampled_from((None, date(2026, 6, 1), date(2026, 6, 2))),
        "end": st.sampled_from((None, date(2026, 6, 2), date(2026, 6, 4))),
        "by": st.sampled_from(("channel", "content", "campaign")),
        "every": st.sampled_from((1, 2, 3)),  # of the identities, those read on their own
    }
)


@pytest.fixture
def workspace_source(engine: Engine) -> Engine:
    ensure_workspace(engine, now=datetime(2026, 5, 1))
    return engine


@pytest.mark.timeout(1500)  # each example spawns the SQLite reader twice and runs every model
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=actions, chosen=options)
def test_the_engine_journeys_equal_the_from_scratch_ones(
    workspace_source: Engine, items: list[tuple[Any, ...]], chosen: dict[str, Any]
) -> None:
    engine = workspace_source
    ws = _store(engine, items)
    timeout, campaigns = chosen["timeout"], chosen["campaigns"]
    with collected_journeys(  # SQLite read by ADBC in a child process, as a large store is
        engine, ws, timeout=timeout, new_session_on_campaign_change=campaigns, apart=True
    ) as found:
        oracle = load_collected(
            engine, ws, timeout=timeout, new_session_on_campaign_change=campaigns
        )
        assert found.default_goal() == default_goal(oracle)
        assert found.csv_text() == journey_csv(oracle.journey_rows())  # the export
        goal = chosen["goal"] or default_goal(oracle)
        found.build(goal, chosen["start"], chosen["end"])
        expected = _rows(oracle, goal, chosen["start"], chosen["end"])
        assert _engine_rows(found) == _oracle_rows(expected)
        window = Window(chosen["start"], chosen["end"])  # the dashboard's figures
        assert _figures(engine_insights(found, window)) == _figures(insights(oracle, window))
    # Some identities read on their own (a campaign's lift): their rows only, the same journeys.
    known = sorted(set(oracle.arrivals) | set(oracle.conversions))
    wanted = {*known[:: chosen["every"]], "nobody"}
    with collected_journeys(
        engine, ws, timeout=timeout, new_session_on_campaign_change=campaigns, identities=wanted
    ) as found:
        theirs = Collected(
            oracle.graph,
            {k: v for k, v in oracle.arrivals.items() if k in wanted},
            {k: v for k, v in oracle.conversions.items() if k in wanted},
        )
        assert found.csv_text() == journey_csv(theirs.journey_rows())
    query = AttributionQuery(
        tuple(MODELS), by=chosen["by"], start=chosen["start"], end=chosen["end"],
        goal=chosen["goal"],
    )  # fmt: skip
    document = store_attribution(
        engine, ws, query, session_timeout=timeout, new_session_on_campaign_change=campaigns
    )
    assert _strip(document) == _strip(collected_attribution(oracle, query))


def _largest(engine: Engine) -> tuple[int, ...]:
    """The largest ids of the tables a build reads only what is new of (`SPANNED`)."""
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar_one() for t in SPANNED
        )


@pytest.mark.timeout(900)  # each example spawns the SQLite reader once
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=actions, then=actions, chosen=options)
def test_a_build_of_what_was_added_equals_a_build_of_everything(
    workspace_source: Engine,
    first: list[tuple[Any, ...]],
    then: list[tuple[Any, ...]],
    chosen: dict[str, Any],
) -> None:
    """The dashboard's builds read only the rows added since the last (`since`): merges of
    earlier ids, late events before earlier ones and new goals' events included, the journeys
    are those of a build of every row."""
    engine = workspace_source
    workspace, seen = _workspace(engine), set()
    _write(engine, workspace, first, seen)
    options = {"timeout": chosen["timeout"], "new_session_on_campaign_change": chosen["campaigns"]}
    ws = workspace[0]
    with collected_journeys(engine, ws, upto=_largest(engine), **options) as before:
        rows = before.rows
    _write(engine, workspace, then, seen, len(first))
    _write(engine, _workspace(engine), then, set())  # another workspace's rows in between
    upto = _largest(engine)
    with (
        collected_journeys(engine, ws, upto=upto, since=rows, **options) as added,
        collected_journeys(engine, ws, upto=upto, apart=True, **options) as whole,
    ):
        assert added.csv_text() == whole.csv_text()
        assert added.default_goal() == whole.default_goal()
        goal = chosen["goal"] or whole.default_goal()
        for found in (added, whole):
            found.build(goal, chosen["start"], chosen["end"])
        assert _engine_rows(added) == _engine_rows(whole)
        assert added.rows is not None and added.rows.upto == upto


def test_a_build_goes_up_to_the_ids_it_is_given(workspace_source: Engine) -> None:
    """Rows after `upto` are not read (the version the figure names); an added read needs it."""
    engine = workspace_source
    items = [("track", (0, 0), "a1", "u1", "Signed Up", None)]
    workspace = _workspace(engine)
    _write(engine, workspace, items, set())
    upto = _largest(engine)
    _write(engine, workspace, [("track", (60, 0), "a2", "u2", "Signed Up", None)], set(), 1)
    with collected_journeys(engine, workspace[0], upto=upto) as found:
        assert found.csv_text().count("conversion") == 1
        rows = found.rows
    with pytest.raises(ValueError, match="ids up to which"):
        with collected_journeys(engine, workspace[0], since=rows):
            pass


def test_a_workspace_without_goals_or_rows(workspace_source: Engine) -> None:
    engine = workspace_source
    with collected_journeys(engine, 1) as found:
        assert found.goals == ()
        assert found.default_goal() is None
        found.build(None)
        assert _engine_rows(found) == []
        assert found.csv_text() == journey_csv([])
    document = store_attribution(engine, 1, AttributionQuery(("linear",)))
    assert document["meta"]["goal"] is None and document["meta"]["n_users"] == 0


def test_the_export_quotes_fields_as_the_csv_module_does(workspace_source: Engine) -> None:
    """Commas, quotes and line feeds in ids and campaign names, a carriage return left bare."""
    engine = workspace_source
    items = [
        ("stored", (0, 0), 1, "a1", 'u,"1', None, ("news,letter", "email", 'sp"ring', "Email")),
        ("stored", (60, 0), 2, "a2", "u\n2", None, ("sms", "sms", "cr\rlf", "SMS")),
        ("track", (120, 5), "a1", 'u,"1', "Signed Up", "12.5"),
    ]
    ws = _store(engine, items)
    with collected_journeys(engine, ws) as found:
        text = found.csv_text()
    oracle = load_collected(engine, ws)
    assert text == journey_csv(oracle.journey_rows())
    assert '"u,""1"' in text and '"news,letter"' in text and "cr\rlf" in text


def test_a_store_in_memory_is_refused_clearly_when_read_apart() -> None:
    engine = prepare_store("sqlite://")
    try:
        ensure_workspace(engine, now=datetime(2026, 5, 1))
        with (
            pytest.raises(StoreError, match="in memory"),
            collected_journeys(engine, 1, apart=True),
        ):
            pass
        with collected_journeys(engine, 1) as small:  # a small one is read in this process
            assert small.default_goal() is None
    finally:
        engine.dispose()


def random_store(engine: Engine, *, seed: int, size: int) -> int:
    """A workspace of `size` random rows of every kind above (seeded), as a bulk load writes
    them; returns its id (for tests that need a store with some of everything)."""
    rng = random.Random(seed)
    recipients = sorted(RECIPIENTS)

    def when() -> tuple[int, int]:
        return rng.randrange(3 * 86_400), rng.choice((0, rng.randrange(1_000_000)))

    makers = (
        lambda: ("identify", when(), rng.choice(ANONS), rng.choice(USERS)),
        lambda: ("page", when(), rng.choice(ANONS), rng.choice((None, *USERS)), rng.choice(URLS),
                 rng.choice(REFERRERS)),
        lambda: ("track", when(), rng.choice(ANONS), rng.choice((None, *USERS)),
                 rng.choice(("Signed Up", "Order Completed")), round(rng.uniform(1, 200), 2)),
        lambda: ("hint", when(), rng.choice(ANONS), rng.choice(recipients)),
        lambda: ("click", when(), rng.choice((None, *recipients)), rng.choice(("v1", "v2")),
                 "human", rng.choice((LANDING, PAGES[1]))),
    )  # fmt: skip
    return _store(engine, [rng.choice(makers)() for _ in range(size)])
