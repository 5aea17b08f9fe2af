"""The identity graph: retroactive merges, cross-device, conflicts, alias chains, hints."""

from __future__ import annotations

from datetime import timedelta

from tagtrail.clicks import IdentityHints
from tagtrail.collect import IdentityFact, fact_of, resolve, verify_hint
from tagtrail.collect.identity import Conflict

from .helpers import T0, at, event, page


def ident(anon: str | None, user: str | None, minutes: float = 0) -> IdentityFact:
    return IdentityFact("identify", at(minutes), anon, user)


def alias(previous: str, user: str, minutes: float = 0) -> IdentityFact:
    return IdentityFact("alias", at(minutes), None, user, previous)


def seen(anon: str, minutes: float = 0) -> IdentityFact:
    return IdentityFact("event", at(minutes), anon, None)


def test_identifying_an_anonymous_id_is_retroactive() -> None:
    graph = resolve([seen("a1", 0), seen("a1", 5), ident("a1", "u1", 60)])
    assert graph.anonymous["a1"] == "u1"
    earlier = page("https://shop.example/", when=T0, anon="a1")
    assert graph.of_event(earlier) == "u1"


def test_cross_device_through_a_shared_user_id() -> None:
    graph = resolve(
        [ident("phone", "u1", 0), ident("laptop", "u1", days_minutes(2)), seen("tablet")]
    )
    assert graph.anonymous["phone"] == graph.anonymous["laptop"] == "u1"
    assert graph.anonymous["tablet"] == "anon:tablet"
    assert graph.identity_of(anonymous_id="unknown") == "anon:unknown"
    assert graph.identity_of(user_id="new") == "new"
    assert graph.identity_of() is None


def days_minutes(days: float) -> float:
    return days * 24 * 60


def test_first_identification_wins_and_the_second_is_a_conflict() -> None:
    facts = [ident("a1", "u2", 10), ident("a1", "u1", 0), ident("a1", "u1", 20)]
    graph = resolve(facts)
    assert graph.anonymous["a1"] == "u1"
    assert graph.users == {"u1": "u1", "u2": "u2"}  # two users are never merged by it
    assert graph.conflicts == (Conflict(at(10), "anonymous", "a1", "u1", "u2", "identify"),)
    # an event with a userId belongs to that user even on a shared anonymous id
    assert graph.identity_of(user_id="u2", anonymous_id="a1") == "u2"


def test_alias_merges_an_anonymous_id_and_user_chains() -> None:
    graph = resolve([alias("anon-7", "u1", 0), IdentityFact("event", at(1), None, "old")])
    assert graph.anonymous["anon-7"] == "u1"
    assert graph.users["old"] == "old"
    chain = resolve(
        [
            IdentityFact("event", at(0), "a0", "u0"),
            IdentityFact("event", at(1), "a1", "u1"),
            alias("u0", "u1", 2),
            alias("u1", "u2", 3),
            IdentityFact("event", at(4), "a2", "u2"),
        ]
    )
    assert set(chain.users.values()) == {"u2"}  # the alias target the chain ends at
    assert chain.anonymous == {"a0": "u2", "a1": "u2", "a2": "u2"}
    assert chain.conflicts == ()


def test_an_alias_merges_users_that_a_conflict_kept_apart() -> None:
    graph = resolve([ident("a1", "u1", 0), ident("a1", "u2", 1), alias("u2", "u1", 2)])
    assert graph.users == {"u1": "u1", "u2": "u1"}
    assert graph.conflicts == ()  # the refused merge happened anyway, by the explicit alias


def test_an_alias_cycle_is_one_identity_named_by_the_first_seen_user() -> None:
    graph = resolve(
        [alias("u1", "u2", 1), alias("u2", "u1", 2), IdentityFact("event", at(0), None, "u2")]
    )
    assert set(graph.users.values()) == {"u2"}


def test_fact_of_events() -> None:
    assert fact_of(event("identify", userId="u", anonymousId="a")) == IdentityFact(
        "identify", T0, "a", "u"
    )
    assert fact_of(event("alias", previousId="a", userId="u")) == IdentityFact(
        "alias", T0, None, "u", "a"
    )
    assert fact_of(event("track", anonymousId="a", event="e")) == IdentityFact(
        "event", T0, "a", None
    )


def test_a_valid_hint_identifies_the_visitor_as_the_recipient() -> None:
    hints = IdentityHints([b"secret"])
    token = hints.hint("rcp_1", "ws1", T0)
    fact = verify_hint(
        hints,
        token,
        workspace="ws1",
        now=at(1),
        anonymous_id="a1",
        timestamp=at(1),
        users={"rcp_1": "u1"},
    )
    assert fact == IdentityFact("hint", at(1), "a1", "u1", None, "rcp_1")
    assert (
        verify_hint(hints, token, workspace="ws2", now=at(1), anonymous_id="a1", timestamp=T0)
        is None
    )
    assert (
        verify_hint(hints, token + "x", workspace="ws1", now=at(1), anonymous_id="a1", timestamp=T0)
        is None
    )
    assert (
        verify_hint(hints, token, workspace="ws1", now=at(11), anonymous_id="a1", timestamp=T0)
        is None
    )
    assert (
        verify_hint(hints, None, workspace="ws1", now=at(1), anonymous_id="a1", timestamp=T0)
        is None
    )
    graph = resolve([fact, ident("laptop", "u1", 60)])
    assert graph.anonymous == {"a1": "u1", "laptop": "u1"}
    assert graph.identity_of(recipient="rcp_1") == "u1"


def test_a_hint_yields_to_an_identify_and_an_email_recipient_joins_its_user() -> None:
    forwarded = IdentityFact("hint", at(0), "a1", "u1", None, "rcp_1")
    graph = resolve([forwarded, ident("a1", "u9", 5)])  # a colleague got the forwarded email
    assert graph.anonymous["a1"] == "u9"
    assert graph.conflicts == (Conflict(at(0), "anonymous", "a1", "u9", "u1", "hint"),)
    email = IdentityFact("hint", at(0), "a1", None, None, "rcp_e")
    joined = resolve(
        [email, IdentityFact("hint", at(5), "a2", None, None, "rcp_e"), ident("a2", "u3", 9)]
    )
    assert joined.recipients["rcp_e"] == joined.anonymous["a1"] == joined.anonymous["a2"] == "u3"
    alone = resolve([IdentityFact("recipient", at(0), recipient="rcp_x")])
    assert alone.recipients["rcp_x"] == "recipient:rcp_x"
    assert alone.identity_of(visitor="v1") == "visitor:v1"


def test_a_recipient_is_one_user_first_wins() -> None:
    graph = resolve(
        [
            IdentityFact("recipient", at(1), user_id="u2", recipient="r"),
            IdentityFact("recipient", at(0), user_id="u1", recipient="r"),
        ]
    )
    assert graph.recipients["r"] == "u1"
    assert graph.conflicts == (Conflict(at(1), "recipient", "r", "u1", "u2", "recipient"),)


def test_merging_the_same_facts_twice_changes_nothing() -> None:
    facts = [ident("a1", "u1"), ident("a1", "u2", 1), alias("u3", "u1", 2), seen("a9")]
    assert resolve(facts + facts) == resolve(facts)
    assert resolve(facts).conflicts == resolve(list(reversed(facts)) * 3).conflicts
    assert all(c.timestamp - T0 < timedelta(hours=1) for c in resolve(facts).conflicts)
