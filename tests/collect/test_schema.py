"""Segment payloads: good and bad ones, with the exact messages, and the size limits."""

from __future__ import annotations

import pytest

from tagtrail.collect import MAX_BATCH_BYTES, MAX_EVENT_BYTES, check_size, parse_batch, parse_event
from tagtrail.collect.schema import (
    AliasEvent,
    Batch,
    GroupEvent,
    IdentifyEvent,
    PageEvent,
    ScreenEvent,
    TrackEvent,
    event_size,
)
from tagtrail.errors import EventTooLarge, InvalidEvent, TagtrailError


def errors_of(obj: object, kind: str | None = None) -> tuple[str, ...]:
    with pytest.raises(InvalidEvent) as info:
        parse_event(obj, kind=kind)  # type: ignore[arg-type]
    return info.value.errors


def test_every_type_parses_with_segment_field_names() -> None:
    common = {"anonymousId": "a1", "messageId": "m1", "timestamp": "2026-05-01T12:00:00Z"}
    track = parse_event(
        {**common, "event": "Signed Up", "properties": {"plan": "pro"}}, kind="track"
    )
    assert isinstance(track, TrackEvent) and track.event == "Signed Up"
    assert track.properties == {"plan": "pro"} and track.message_id == "m1"
    assert isinstance(parse_event({**common, "traits": {"a": 1}}, kind="identify"), IdentifyEvent)
    assert isinstance(parse_event({**common, "name": "Home"}, kind="page"), PageEvent)
    assert isinstance(parse_event({**common, "name": "Feed"}, kind="screen"), ScreenEvent)
    group = parse_event({**common, "groupId": 42}, kind="group")
    assert isinstance(group, GroupEvent) and group.group_id == "42"
    alias = parse_event({"previousId": "a1", "userId": "u1"}, kind="alias")
    assert isinstance(alias, AliasEvent) and (alias.previous_id, alias.user_id) == ("a1", "u1")


def test_context_fields_are_typed_and_others_kept() -> None:
    event = parse_event(
        {
            "userId": "u1",
            "event": "x",
            "context": {
                "page": {
                    "url": "https://a.example/",
                    "referrer": "https://b.example/",
                    "title": "A",
                    "path": "/",
                    "search": "",
                },
                "campaign": {
                    "name": "spring",
                    "source": "nl",
                    "medium": "email",
                    "term": "t",
                    "content": "c",
                },
                "userAgent": "Mozilla/5.0",
                "ip": "203.0.113.9",
                "library": {"name": "analytics-python", "version": "2.3.2"},
                "locale": "en-GB",
            },
            "integrations": {"All": True},
            "sentAt": "2026-05-01T12:00:01Z",
            "originalTimestamp": "2026-05-01T12:00:00Z",
            "writeKey": "wk",
        },
        kind="track",
    )
    ctx = event.context
    assert ctx.page is not None and ctx.page.referrer == "https://b.example/"
    assert ctx.campaign is not None and ctx.campaign.name == "spring"
    assert ctx.user_agent == "Mozilla/5.0" and ctx.ip == "203.0.113.9"
    assert ctx.library is not None and ctx.library.name == "analytics-python"
    assert ctx.model_extra == {"locale": "en-GB"}
    assert event.write_key == "wk" and event.integrations == {"All": True}


def test_the_endpoint_kind_wins_over_the_body_type() -> None:
    assert parse_event({"type": "page", "userId": "u", "event": "e"}, kind="track").type == "track"
    assert parse_event({"type": "page", "userId": "u"}).type == "page"


@pytest.mark.parametrize(
    ("obj", "kind", "expected"),
    [
        ({"userId": "u"}, "track", ("event: is required",)),
        ({"userId": "u", "event": ""}, "track", ("event: must not be empty",)),
        ({"event": "e"}, "track", ("userId: a track call needs a userId or an anonymousId",)),
        (
            {"userId": "  "},
            "identify",
            ("userId: an identify call needs a userId or an anonymousId",),
        ),
        ({}, "page", ("userId: a page call needs a userId or an anonymousId",)),
        ({"userId": "u"}, "alias", ("previousId: is required",)),
        ({"previousId": "a"}, "alias", ("userId: is required",)),
        (
            {"previousId": "", "userId": ""},
            "alias",
            ("userId: is required", "previousId: is required"),
        ),
        ({"userId": "u"}, "group", ("groupId: is required",)),
        (
            {"userId": "u", "timestamp": "yesterday"},
            "page",
            ("timestamp: must be an ISO 8601 timestamp",),
        ),
        ({"userId": True}, "page", ("userId: must be a string",)),
        ({"userId": ["u"]}, "page", ("userId: must be a string",)),
        ({"userId": "u", "properties": []}, "page", ("properties: must be an object",)),
        ({"userId": "u", "context": {"page": "x"}}, "page", ("context.page: must be an object",)),
        (
            {"userId": "u", "context": {"page": {"url": 3}}},
            "page",
            ("context.page.url: must be a string",),
        ),
        ([], "track", ("event: must be an object",)),
        ({"userId": "u"}, None, ("type: is required",)),
        (
            {"type": "pageview", "userId": "u"},
            None,
            ("type: unknown type 'pageview'; one of track, identify, page, screen, alias, group",),
        ),
    ],
)
def test_invalid_events_name_each_field(
    obj: object, kind: str | None, expected: tuple[str, ...]
) -> None:
    assert errors_of(obj, kind) == expected


def test_invalid_event_is_a_tagtrail_error_with_a_hint() -> None:
    with pytest.raises(TagtrailError) as info:
        parse_event({"userId": "u"}, kind="track")
    assert isinstance(info.value, InvalidEvent)
    assert info.value.message == "the event is not valid: event: is required"
    assert info.value.hint and "segment.com" in info.value.hint


def test_batch_merges_shared_values_and_is_all_or_nothing() -> None:
    events: list[object] = [
        {"type": "track", "userId": "u", "event": "e", "context": {"ip": "192.0.2.1"}},
        {"type": "identify", "anonymousId": "a", "sentAt": "2026-05-01T00:00:09Z"},
    ]
    body = {
        "batch": events,
        "context": {"ip": "198.51.100.1", "userAgent": "ua"},
        "sentAt": "2026-05-01T00:00:00Z",
        "writeKey": "wk",
    }
    first, second = parse_batch(body)
    assert first.context.ip == "192.0.2.1" and first.context.user_agent == "ua"
    assert second.context.ip == "198.51.100.1"
    assert first.sent_at is not None and first.sent_at.second == 0
    assert second.sent_at is not None and second.sent_at.second == 9
    assert first.write_key == second.write_key == "wk"
    events.append({"type": "alias", "userId": "u"})
    events.append({"type": "track", "anonymousId": "a"})
    events.append("nope")
    with pytest.raises(InvalidEvent) as info:
        parse_batch(body)
    assert info.value.errors == (
        "batch[2].previousId: is required",
        "batch[3].event: is required",
        "batch[4]: must be an object",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "batch: the body must be an object with a `batch` array"),
        ({}, "batch: is required"),
        ({"batch": {}}, "batch: must be an array"),
    ],
)
def test_batch_shape(body: object, message: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_batch(body)
    assert info.value.errors == (message,)


def test_size_limits() -> None:
    assert (MAX_EVENT_BYTES, MAX_BATCH_BYTES) == (32 * 1024, 500 * 1024)
    check_size(MAX_EVENT_BYTES)
    check_size(MAX_BATCH_BYTES, batch=True)
    with pytest.raises(EventTooLarge) as info:
        check_size(MAX_EVENT_BYTES + 1)
    assert info.value.errors == ("event: 32769 bytes is over the 32768-byte limit",)
    with pytest.raises(EventTooLarge, match="the batch is 512001 bytes, over the 512000-byte"):
        check_size(MAX_BATCH_BYTES + 1, batch=True)
    assert isinstance(info.value, InvalidEvent)


def test_an_oversized_event_in_a_batch_is_refused() -> None:
    big = {"type": "track", "userId": "u", "event": "e", "properties": {"x": "é" * 17_000}}
    assert event_size(big) > MAX_EVENT_BYTES
    with pytest.raises(InvalidEvent) as info:
        parse_batch({"batch": [big]})
    assert info.value.errors == ("batch[0]: the event is over 32768 bytes",)
    assert len(parse_batch({"batch": [big]}, max_event_bytes=None)) == 1


def test_batch_model_is_an_openapi_schema() -> None:
    schema = Batch.model_json_schema(by_alias=True)
    assert "batch" in schema["required"]
    parsed = Batch.model_validate({"batch": [{"type": "page", "anonymousId": "a"}]})
    assert isinstance(parsed.batch[0], PageEvent)
