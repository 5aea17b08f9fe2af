"""Touchpoints: arrivals from outside, direct arrivals, self-referrals, short-link clicks."""

from __future__ import annotations

from datetime import timedelta

from tagtrail.collect import click_touchpoint, drop_click_landings, touchpoint_for
from tagtrail.collect.touchpoints import is_self_referral

from .helpers import SITE, T0, at, event, page

NL = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"


def test_an_arrival_is_a_touchpoint_with_its_source() -> None:
    touch = touchpoint_for(page(NL, mid="m1"), site_hosts=SITE)
    assert touch is not None
    assert (touch.source, touch.medium, touch.campaign, touch.channel) == (
        "newsletter",
        "email",
        "spring",
        "Email",
    )
    assert (touch.message_id, touch.kind, touch.anonymous_id, touch.timestamp) == (
        "m1",
        "page",
        "a1",
        T0,
    )
    assert touch.key == ("newsletter", "email", "spring", None, None)


def test_direct_arrivals_are_touchpoints_and_self_referrals_are_not() -> None:
    direct = touchpoint_for(page("https://shop.example/"), site_hosts=SITE)
    assert direct is not None and direct.is_direct and direct.source == "(direct)"
    assert (
        touchpoint_for(page("https://shop.example/b", "https://shop.example/a"), site_hosts=SITE)
        is None
    )
    assert (
        touchpoint_for(page("https://shop.example/b", "https://www.shop.example/"), site_hosts=SITE)
        is None
    )
    assert (
        touchpoint_for(
            page("https://shop.example/b", "https://blog.shop.example/"), site_hosts=SITE
        )
        is None
    )
    # another host of the same site, listed in site_hosts
    assert (
        touchpoint_for(page("https://app.other.example/", "https://shop.example/"), site_hosts=SITE)
        is None
    )
    # a campaign on an internal link is still a touchpoint
    tagged = touchpoint_for(page(NL, "https://shop.example/a"), site_hosts=SITE)
    assert tagged is not None and tagged.channel == "Email"
    # gclid with a self-referral
    ads = touchpoint_for(
        page("https://shop.example/?gclid=x", "https://shop.example/"), site_hosts=SITE
    )
    assert ads is not None and ads.channel == "Paid Search" and ads.click_id == "gclid"


def test_is_self_referral() -> None:
    assert is_self_referral("https://shop.example/", "https://shop.example/x", ())
    assert is_self_referral(None, "https://sub.shop.example/", SITE)
    assert not is_self_referral("https://shop.example/", None, SITE)
    assert not is_self_referral("https://shop.example/", "https://notshop.example/", SITE)


def test_track_events_are_touchpoints_only_when_asked() -> None:
    tracked = event("track", userId="u", event="e", context={"page": {"url": NL}})
    assert touchpoint_for(tracked, site_hosts=SITE) is None
    touch = touchpoint_for(tracked, site_hosts=SITE, track=True)
    assert touch is not None and touch.kind == "track" and touch.user_id == "u"
    assert touchpoint_for(event("identify", userId="u"), site_hosts=SITE) is None
    screen = touchpoint_for(event("screen", anonymousId="a"), site_hosts=SITE)
    assert screen is not None and screen.is_direct and screen.kind == "screen"


def test_a_short_link_click_is_a_touchpoint_with_its_recipient() -> None:
    click = click_touchpoint(
        click_id=17,
        clicked_at=T0.replace(tzinfo=None),
        destination=NL,
        recipient="rcp_1",
        user_id="u1",
    )
    assert (click.message_id, click.kind, click.channel, click.campaign) == (
        "click:17",
        "click",
        "Email",
        "spring",
    )
    assert (click.recipient, click.user_id, click.timestamp) == ("rcp_1", "u1", T0)
    untagged = click_touchpoint(
        click_id=18,
        clicked_at=T0,
        destination="https://shop.example/",
        referrer="https://t.co/x",
        visitor="v9",
    )
    assert (untagged.source, untagged.channel, untagged.visitor) == ("t.co", "Organic Social", "v9")
    broken = click_touchpoint(click_id=19, clicked_at=T0, destination="http://[bad")
    assert broken.is_direct


def test_the_landing_page_view_after_a_click_is_the_same_arrival() -> None:
    click = click_touchpoint(click_id=1, clicked_at=T0, destination=NL, recipient="r")
    landing = touchpoint_for(page(NL, when=at(0.5), mid="p1"), site_hosts=SITE)
    later = touchpoint_for(page(NL, when=at(10), mid="p2"), site_hosts=SITE)
    other = touchpoint_for(
        page("https://shop.example/", "https://www.google.com/", when=at(1), mid="p3"),
        site_hosts=SITE,
    )
    same_time = touchpoint_for(page(NL, when=T0, mid="0-first"), site_hosts=SITE)
    assert landing and later and other and same_time
    kept = drop_click_landings([later, other, landing, same_time, click])
    assert [t.message_id for t in kept] == ["click:1", "p3", "p2"]
    assert drop_click_landings([later, click], window=timedelta(minutes=15)) == [click]
