"""Arrival order never changes sessions, identities or profiles; merges are idempotent."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tagtrail.collect import Hit, IdentityFact, profile, resolve, sessionize
from tagtrail.collect.touchpoints import Touchpoint

from .helpers import T0

CHANNELS = [
    ("Direct", "(direct)", "(none)", "(direct)"),
    ("Email", "nl", "email", "spring"),
    ("Email", "nl", "email", "summer"),
    ("Organic Search", "google", "organic", "(organic)"),
]

minutes = st.integers(min_value=0, max_value=60 * 24 * 120)


@st.composite
def touch_hits(draw: st.DrawFn) -> list[Hit]:
    count = draw(st.integers(min_value=0, max_value=25))
    hits = []
    for index in range(count):
        when = T0 + timedelta(minutes=draw(minutes))
        device = draw(st.sampled_from([None, "phone", "laptop"]))
        if draw(st.booleans()):
            channel, source, medium, campaign = draw(st.sampled_from(CHANNELS))
            tp = Touchpoint(
                f"m{index}",
                when,
                "page",
                source,
                medium,
                campaign,
                None,
                None,
                channel,
                anonymous_id=device,
            )
            hits.append(Hit.of_touchpoint(tp))
        else:
            hits.append(Hit(when, f"m{index}", device=device))
    return hits


ids = st.sampled_from(["a1", "a2", "a3", "u1", "u2", "u3"])


@st.composite
def facts(draw: st.DrawFn) -> list[IdentityFact]:
    out = []
    for _ in range(draw(st.integers(min_value=0, max_value=20))):
        when = T0 + timedelta(minutes=draw(st.integers(min_value=0, max_value=30)))
        kind = draw(st.sampled_from(["identify", "event", "alias", "hint", "recipient"]))
        anon = draw(st.sampled_from([None, "a1", "a2", "a3"]))
        user = draw(st.sampled_from([None, "u1", "u2", "u3"]))
        previous = draw(ids) if kind == "alias" else None
        recipient = (
            draw(st.sampled_from([None, "r1", "r2"])) if kind in ("hint", "recipient") else None
        )
        out.append(IdentityFact(kind, when, anon, user, previous, recipient))  # type: ignore[arg-type]
    return out


@settings(max_examples=200, deadline=None)
@given(touch_hits(), st.randoms(use_true_random=False), st.booleans())
def test_arrival_order_never_changes_sessions(hits: list[Hit], rnd, ua: bool) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(hits)
    rnd.shuffle(shuffled)
    assert sessionize(shuffled, new_session_on_campaign_change=ua) == sessionize(
        hits, new_session_on_campaign_change=ua
    )


@settings(max_examples=200, deadline=None)
@given(touch_hits(), st.randoms(use_true_random=False))
def test_arrival_order_never_changes_profiles(hits: list[Hit], rnd) -> None:  # type: ignore[no-untyped-def]
    touches = [h.touchpoint for h in hits if h.touchpoint is not None]
    shuffled = list(touches)
    rnd.shuffle(shuffled)
    assert profile("u", shuffled) == profile("u", touches)


@settings(max_examples=300, deadline=None)
@given(facts(), st.randoms(use_true_random=False))
def test_arrival_order_never_changes_identities(items: list[IdentityFact], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert resolve(shuffled) == resolve(items)


@settings(max_examples=300, deadline=None)
@given(facts())
def test_identity_merging_is_idempotent(items: list[IdentityFact]) -> None:
    graph = resolve(items)
    assert resolve(items + items) == graph
    # two users are only ever one identity through an alias between them (directly or chained)
    aliased = any(f.kind == "alias" for f in items)
    if not aliased:
        assert len(set(graph.users.values())) == len(graph.users)
    # every anonymous id maps to an identity, and the conflicts are about known ids
    assert all(c.id in graph.anonymous or c.id in graph.recipients for c in graph.conflicts)
