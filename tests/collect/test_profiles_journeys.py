"""Profiles (first and last touch by event time) and the DESIGN §7 journey rows."""

from __future__ import annotations

from decimal import Decimal

from tagtrail.collect import (
    Conversion,
    Goal,
    Hit,
    arrivals,
    click_touchpoint,
    conversion_for,
    drop_click_landings,
    fact_of,
    journey_csv,
    journey_rows,
    profile,
    profiles,
    resolve,
    sessionize,
    touchpoint_for,
)
from tagtrail.collect.identity import IdentityFact

from .helpers import SITE, T0, at, event, page, touch

GOOGLE = ("Organic Search", "google", "organic", "(organic)")


def test_first_and_last_touch_by_event_time_even_when_arriving_late() -> None:
    email = touch("e", T0, referrer="https://mail.example/")
    google = touch("g", at(days=2), *GOOGLE)
    direct = touch("d", at(days=3), "Direct")
    seen_so_far = profile("u1", [google, direct])
    assert seen_so_far.initial_channel == "Organic Search"
    late = profile("u1", [google, direct, email])  # the email touch arrives last, happened first
    assert (late.initial_utm_source, late.initial_utm_medium, late.initial_utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )
    assert (late.initial_channel, late.initial_referrer, late.initial_touch_at) == (
        "Email",
        "https://mail.example/",
        T0,
    )
    # the last touch is the last non-direct one: the direct visit does not erase Google
    assert (late.last_utm_source, late.last_channel, late.last_touch_at) == (
        "google",
        "Organic Search",
        at(days=2),
    )
    assert late.touches == 3
    assert profile("u1", [direct]).last_channel == "Direct"
    assert profile("u1", []).to_json()["initial_channel"] is None
    assert late.to_json()["initial_touch_at"] == "2026-05-01T12:00:00Z"
    assert profiles({"u1": [email], "u2": []})["u2"].touches == 0


def test_journey_rows_have_the_exact_format() -> None:
    touches = {
        "u1": [touch("g", at(days=2), *GOOGLE), touch("e", T0), touch("d", at(days=2), "Direct")],
        "anon:a9": [touch("x", T0, "Direct")],
    }
    conversions = {
        "u1": [Conversion("c1", at(days=2), "Order Completed", Decimal("49.9"))],
        "u3": [Conversion("c2", T0, "Signed Up", Decimal(0))],
    }
    text = journey_csv(journey_rows(touches, conversions))
    assert text == (
        "user_id,timestamp,type,channel,source,medium,campaign,value\n"
        "anon:a9,2026-05-01T12:00:00Z,touch,direct,(direct),(none),(direct),\n"
        "u1,2026-05-01T12:00:00Z,touch,Email,newsletter,email,spring,\n"
        "u1,2026-05-03T12:00:00Z,touch,direct,(direct),(none),(direct),\n"
        "u1,2026-05-03T12:00:00Z,touch,Organic Search,google,organic,(organic),\n"
        "u1,2026-05-03T12:00:00Z,conversion,,,,,49.90\n"
        "u3,2026-05-01T12:00:00Z,conversion,,,,,0.00\n"
    )


def test_goals_turn_track_events_into_conversions() -> None:
    goals = [Goal("Order Completed", "revenue"), Goal("Signed Up")]
    order = event("track", userId="u", event="Order Completed", properties={"revenue": "19.99"})
    conv = conversion_for(order, goals)
    assert conv is not None and (conv.goal, conv.value, conv.timestamp) == (
        "Order Completed",
        Decimal("19.99"),
        T0,
    )
    odd = [
        ("12.345", "12.345"),
        (12, "12.00"),
        (True, "0.00"),
        ("abc", "0.00"),
        (None, "0.00"),
        ("NaN", "0.00"),
        (1.5, "1.50"),
    ]
    for raw, text in odd:
        ev = event("track", userId="u", event="Order Completed", properties={"revenue": raw})
        found = conversion_for(ev, goals)
        assert found is not None
        assert journey_rows({}, {"u": [found]})[0].value == text, raw
    signed = conversion_for(
        event("track", userId="u", event="Signed Up", properties={"revenue": 5}), goals
    )
    assert signed is not None and signed.value == 0
    assert conversion_for(event("track", userId="u", event="Other"), goals) is None
    assert conversion_for(event("page", userId="u"), goals) is None


def test_scenario_email_click_google_return_signup_on_another_device() -> None:
    """Issue 5's scenario, in the pure core: three touchpoints, first and last touch right."""
    landing = "https://shop.example/?utm_source=intercom&utm_medium=email&utm_campaign=onboarding"
    click = click_touchpoint(
        click_id=1, clicked_at=T0, destination=landing, recipient="rcp_1", user_id="u1"
    )
    phone_landing = page(landing, when=at(0.1), anon="phone", mid="p1")
    phone_google = page(
        "https://shop.example/pricing",
        "https://www.google.com/",
        when=at(days=2),
        anon="phone",
        mid="p2",
    )
    phone_inside = page(
        "https://shop.example/signup",
        "https://shop.example/pricing",
        when=at(days=2, minutes=1),
        anon="phone",
        mid="p3",
    )
    laptop_visit = page(
        "https://shop.example/signup", when=at(days=2, minutes=20), anon="laptop", mid="p4"
    )
    signup = event(
        "identify", at(days=2, minutes=21), anonymousId="laptop", userId="u1", messageId="i1"
    )
    order = event(
        "track",
        at(days=2, minutes=22),
        userId="u1",
        event="Order Completed",
        properties={"revenue": 99},
        messageId="t1",
    )
    events = [order, signup, laptop_visit, phone_inside, phone_google, phone_landing]
    facts = [f for f in map(fact_of, events) if f is not None]
    facts.append(IdentityFact("hint", at(0.1), "phone", "u1", None, "rcp_1"))
    graph = resolve(facts)
    by_identity: dict[str, list[Hit]] = {}
    touches = [click] + [t for e in events if (t := touchpoint_for(e, site_hosts=SITE))]
    assert len(touches) == 4  # the internal page view is no touchpoint
    kept = drop_click_landings(touches)
    for t in kept:
        by_identity.setdefault(graph.of_touchpoint(t) or "", []).append(Hit.of_touchpoint(t))
    assert list(by_identity) == ["u1"]
    journey = arrivals(sessionize(by_identity["u1"]))
    assert [t.channel for t in journey] == ["Email", "Organic Search", "Direct"]
    user = profile("u1", journey)
    assert (user.initial_utm_source, user.initial_channel) == ("intercom", "Email")
    assert (user.last_utm_source, user.last_channel) == ("google", "Organic Search")
    conv = conversion_for(order, [Goal("Order Completed", "revenue")])
    assert conv is not None
    rows = journey_rows({"u1": journey}, {graph.of_event(order) or "": [conv]})
    assert [(r.type, r.channel) for r in rows] == [
        ("touch", "Email"),
        ("touch", "Organic Search"),
        ("touch", "direct"),
        ("conversion", ""),
    ]
