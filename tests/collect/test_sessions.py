"""Sessions: the 30-minute boundary, last non-direct inheritance, campaign changes, order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tagtrail.collect import Hit, arrivals, sessionize, sessionize_all

from .helpers import T0, at, page, touch


def test_thirty_minutes_of_inactivity_exactly_starts_a_new_session() -> None:
    hits = [
        Hit(T0, "a"),
        Hit(at(29) + timedelta(seconds=59), "b"),
        Hit(at(59) + timedelta(seconds=59), "c"),
    ]
    one = sessionize(hits)
    assert [s.message_ids for s in one] == [("a", "b"), ("c",)]
    assert one[0].end == at(29) + timedelta(seconds=59)
    assert [s.message_ids for s in sessionize([Hit(T0, "a"), Hit(at(30), "b")])] == [("a",), ("b",)]
    assert len(sessionize([Hit(T0, "a"), Hit(at(30), "b")], timeout=timedelta(hours=1))) == 1
    with pytest.raises(ValueError):
        sessionize([], timeout=timedelta(0))


def test_a_direct_return_visit_inherits_the_last_non_direct_campaign() -> None:
    email = touch("e", T0)
    google = touch("g", at(10), "Organic Search", "google", "organic", "(organic)")
    direct = touch("d", at(days=2), "Direct")
    sessions = sessionize([Hit.of_touchpoint(t) for t in (direct, google, email)])
    assert len(sessions) == 2
    assert sessions[0].traffic == email and not sessions[0].inherited  # own: the first non-direct
    assert sessions[1].traffic == google and sessions[1].inherited
    assert (sessions[1].channel, sessions[1].source, sessions[1].medium) == (
        "Organic Search",
        "google",
        "organic",
    )


def test_inheritance_stops_at_the_lookback() -> None:
    email, direct = touch("e", T0), touch("d", at(days=91), "Direct")
    sessions = sessionize([Hit.of_touchpoint(email), Hit.of_touchpoint(direct)])
    assert sessions[1].traffic is None and not sessions[1].inherited
    assert (sessions[1].channel, sessions[1].source, sessions[1].medium, sessions[1].campaign) == (
        "Direct",
        "(direct)",
        "(none)",
        "(direct)",
    )
    longer = sessionize(
        [Hit.of_touchpoint(email), Hit.of_touchpoint(direct)], lookback=timedelta(days=91)
    )
    assert longer[1].traffic == email


def test_a_session_with_no_touchpoint_is_direct_or_inherits() -> None:
    only_track = sessionize([Hit(T0, "t1"), Hit(at(1), "t2")])
    assert only_track[0].channel == "Direct" and only_track[0].touchpoints == ()


def test_campaign_change_starts_a_session_only_when_asked() -> None:
    hits = [
        Hit.of_touchpoint(touch("e", T0)),
        Hit.of_touchpoint(touch("f", at(5), campaign="summer")),
        Hit.of_touchpoint(touch("g", at(6), campaign="summer")),
        Hit(at(7), "track"),
    ]
    assert len(sessionize(hits)) == 1  # GA4
    ua = sessionize(hits, new_session_on_campaign_change=True)
    assert [s.message_ids for s in ua] == [("e",), ("f", "g", "track")]
    assert ua[1].traffic is not None and ua[1].traffic.campaign == "summer"
    # a direct start followed by a campaign is a change; a direct touch never is
    direct_first = [
        Hit.of_touchpoint(touch("d", T0, "Direct")),
        Hit.of_touchpoint(touch("e", at(1))),
        Hit.of_touchpoint(touch("x", at(2), "Direct")),
    ]
    assert [
        s.message_ids for s in sessionize(direct_first, new_session_on_campaign_change=True)
    ] == [("d",), ("e", "x")]


def test_out_of_order_arrival_and_duplicates() -> None:
    hits = [Hit(at(45), "c"), Hit(T0, "a"), Hit(at(10), "b"), Hit(at(10), "b")]
    sessions = sessionize(hits)
    assert [s.message_ids for s in sessions] == [("a", "b"), ("c",)]
    assert [s.index for s in sessions] == [0, 1]


def test_arrivals_keep_a_direct_touch_only_when_it_opens_a_session() -> None:
    d1, e, d2 = touch("d1", T0, "Direct"), touch("e", at(1)), touch("d2", at(2), "Direct")
    d3 = touch("d3", at(days=1), "Direct")
    sessions = sessionize([Hit.of_touchpoint(t) for t in (d1, e, d2, d3)])
    assert arrivals(sessions) == [d1, e, d3]


def test_sessionize_all_and_hits_from_events() -> None:
    landing = page("https://shop.example/?utm_source=nl&utm_medium=email", mid="p")
    hits = {"u1": [Hit.of(landing)], "u2": []}
    result = sessionize_all(hits)
    assert [len(v) for v in result.values()] == [1, 0]
    assert result["u1"][0].message_ids == ("p",)


def test_sessions_never_span_two_devices() -> None:
    phone = Hit.of_touchpoint(touch("g", T0, "Organic Search", "google", "organic", "(organic)"))
    hits = [
        Hit(T0, "p1", device="phone"),
        Hit(at(5), "l1", device="laptop"),
        Hit(at(6), "p2", device="phone"),
    ]
    sessions = sessionize([*hits, phone])
    assert [s.message_ids for s in sessions] == [("g",), ("p1", "p2"), ("l1",)]
    assert sessions[2].inherited and sessions[2].channel == "Organic Search"
