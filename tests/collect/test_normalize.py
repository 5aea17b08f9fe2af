"""Normalisation: clock-skew correction, message ids, context, campaign and traffic source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tagtrail.collect import Campaign, normalize, parse_event
from tagtrail.collect.normalize import corrected_timestamp, message_id

from .helpers import SITE, T0

RECEIVED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_skew_is_corrected_with_sent_at() -> None:
    # the phone's clock is one hour fast: it says 13:00:00 for the event, 13:00:05 at sending
    event = parse_event(
        {
            "userId": "u",
            "event": "e",
            "timestamp": "2026-05-01T13:00:00Z",
            "sentAt": "2026-05-01T13:00:05Z",
        },
        kind="track",
    )
    assert corrected_timestamp(event, RECEIVED) == RECEIVED - timedelta(seconds=5)
    normal = normalize(event, received_at=RECEIVED)
    assert normal.timestamp == datetime(2026, 5, 1, 11, 59, 55, tzinfo=UTC)
    assert normal.original_timestamp == datetime(2026, 5, 1, 13, 0, tzinfo=UTC)


def test_original_timestamp_wins_over_timestamp() -> None:
    event = parse_event(
        {
            "userId": "u",
            "event": "e",
            "timestamp": "2020-01-01T00:00:00Z",
            "originalTimestamp": "2026-05-01T11:00:00+01:00",
            "sentAt": "2026-05-01T10:00:30Z",
        },
        kind="track",
    )
    assert corrected_timestamp(event, RECEIVED) == RECEIVED - timedelta(seconds=30)


def test_without_sent_at_the_timestamp_is_kept_and_without_any_the_receipt_time() -> None:
    historical = parse_event(
        {"userId": "u", "event": "e", "timestamp": "2024-01-03T14:05:09"}, kind="track"
    )
    assert corrected_timestamp(historical, RECEIVED) == datetime(2024, 1, 3, 14, 5, 9, tzinfo=UTC)
    bare = parse_event({"userId": "u", "event": "e"}, kind="track")
    naive = RECEIVED.replace(tzinfo=None)
    assert normalize(bare, received_at=naive).timestamp == RECEIVED


def test_a_corrected_time_is_never_after_receipt() -> None:
    event = parse_event(
        {
            "userId": "u",
            "event": "e",
            "timestamp": "2026-05-01T12:00:10Z",
            "sentAt": "2026-05-01T12:00:00Z",
        },
        kind="track",
    )
    assert corrected_timestamp(event, RECEIVED) == RECEIVED


def test_message_id_is_kept_or_derived_deterministically() -> None:
    body = {"userId": "u", "event": "e", "timestamp": "2026-05-01T12:00:00Z"}
    assert message_id(parse_event({**body, "messageId": " m-1 "}, kind="track")) == "m-1"
    derived = message_id(parse_event(body, kind="track"))
    assert derived.startswith("tt-") and len(derived) == 35
    # the same payload (keys in another order, another write key) has the same id
    again = parse_event({"writeKey": "other", **dict(reversed(list(body.items())))}, kind="track")
    assert message_id(again) == derived
    assert message_id(parse_event({**body, "event": "f"}, kind="track")) != derived


def test_context_extraction_prefers_the_context_then_the_request() -> None:
    event = parse_event(
        {
            "anonymousId": "a",
            "context": {
                "page": {"url": "https://shop.example/x", "title": "X"},
                "userAgent": "Browser/1",
                "ip": "203.0.113.7",
            },
        },
        kind="page",
    )
    normal = normalize(event, received_at=RECEIVED, ip="192.0.2.1", user_agent="Other/2")
    assert (normal.url, normal.title, normal.user_agent, normal.ip) == (
        "https://shop.example/x",
        "X",
        "Browser/1",
        "203.0.113.7",
    )
    bare = normalize(
        parse_event({"anonymousId": "a"}, kind="page"),
        received_at=RECEIVED,
        ip="192.0.2.1",
        user_agent="Other/2",
    )
    assert (bare.ip, bare.user_agent, bare.url) == ("192.0.2.1", "Other/2", None)


def test_a_page_calls_properties_give_url_and_referrer() -> None:
    event = parse_event(
        {
            "anonymousId": "a",
            "properties": {
                "url": "https://shop.example/?tt_hint=abc",
                "referrer": "https://www.bing.com/",
            },
        },
        kind="page",
    )
    normal = normalize(event, received_at=RECEIVED)
    assert normal.referrer == "https://www.bing.com/" and normal.hint == "abc"
    assert normal.traffic is not None and normal.traffic.channel == "Organic Search"


def test_campaign_from_context_or_from_the_url() -> None:
    url = "https://shop.example/?utm_source=nl&utm_medium=email&utm_campaign=spring&utm_term=t"
    from_url = normalize(
        parse_event({"anonymousId": "a", "context": {"page": {"url": url}}}, kind="page"),
        received_at=RECEIVED,
    )
    assert from_url.campaign == Campaign("nl", "email", "spring", None, "t")
    given = parse_event(
        {
            "anonymousId": "a",
            "context": {"campaign": {"name": "launch", "source": "push", "medium": "push"}},
        },
        kind="screen",
    )
    normal = normalize(given, received_at=RECEIVED)
    assert normal.campaign == Campaign("push", "push", "launch")
    assert normal.traffic is not None
    assert (normal.traffic.source, normal.traffic.channel) == ("push", "Mobile Push Notifications")


@pytest.mark.parametrize(
    ("url", "referrer", "expected"),
    [
        (
            "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=s",
            None,
            ("newsletter", "email", "s", "Email"),
        ),
        (
            "https://shop.example/?gclid=abc&utm_source=nl&utm_medium=email",
            None,
            ("google", "cpc", "(not set)", "Paid Search"),
        ),
        (
            "https://shop.example/",
            "https://www.google.de/",
            ("google", "organic", "(organic)", "Organic Search"),
        ),
        (
            "https://shop.example/",
            "https://m.facebook.com/",
            ("m.facebook.com", "referral", "(referral)", "Organic Social"),
        ),
        (
            "https://shop.example/",
            "https://blog.example.org/post",
            ("blog.example.org", "referral", "(referral)", "Referral"),
        ),
        (
            "https://shop.example/",
            "https://shop.example/cart",
            ("(direct)", "(none)", "(direct)", "Direct"),
        ),
        ("https://shop.example/", None, ("(direct)", "(none)", "(direct)", "Direct")),
    ],
)
def test_traffic_source_of_page_events(
    url: str, referrer: str | None, expected: tuple[str, str, str, str]
) -> None:
    event = parse_event(
        {"anonymousId": "a", "context": {"page": {"url": url, "referrer": referrer}}}, kind="page"
    )
    traffic = normalize(event, received_at=RECEIVED, site_hosts=SITE).traffic
    assert traffic is not None
    assert (traffic.source, traffic.medium, traffic.campaign, traffic.channel) == expected


def test_track_events_get_a_traffic_source_only_with_a_page_url() -> None:
    with_page = parse_event(
        {
            "userId": "u",
            "event": "e",
            "context": {"page": {"url": "https://shop.example/?utm_source=nl&utm_medium=email"}},
        },
        kind="track",
    )
    assert normalize(with_page, received_at=T0).traffic is not None
    assert (
        normalize(parse_event({"userId": "u", "event": "e"}, kind="track"), received_at=T0).traffic
        is None
    )
    identify = normalize(
        parse_event({"userId": "u", "traits": {"plan": "pro"}}, kind="identify"), received_at=T0
    )
    assert identify.traffic is None and identify.traits == {"plan": "pro"}


def test_an_unreadable_url_counts_as_none() -> None:
    event = parse_event(
        {
            "anonymousId": "a",
            "context": {"page": {"url": "http://[bad", "referrer": "https://duckduckgo.com/"}},
        },
        kind="page",
    )
    traffic = normalize(event, received_at=RECEIVED).traffic
    assert traffic is not None and traffic.channel == "Organic Search"


def test_normalized_fields_of_each_type() -> None:
    alias = normalize(parse_event({"previousId": "a", "userId": "u"}, kind="alias"), received_at=T0)
    assert (alias.type, alias.previous_id, alias.user_id) == ("alias", "a", "u")
    group = normalize(
        parse_event({"userId": "u", "groupId": "g", "traits": {"n": 1}}, kind="group"),
        received_at=T0,
    )
    assert (group.group_id, dict(group.traits)) == ("g", {"n": 1})
    screen = normalize(parse_event({"userId": "u", "name": "Feed"}, kind="screen"), received_at=T0)
    assert screen.name == "Feed" and screen.received_at == T0
