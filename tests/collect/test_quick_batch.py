"""The `/v1/batch` fast path (`quick_batch` + `batch_values`) against the full path
(`parse_batch` + `normalize` + `event_row`): whatever the fast path accepts, the full path accepts
too, and stores the very same values."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tagtrail.collect import EVENT_TYPES, normalize, parse_batch
from tagtrail.collect.schema import quick_batch
from tagtrail.errors import InvalidEvent
from tagtrail.service.batch import batch_values, store_time
from tagtrail.service.collect import EVENT_COLUMNS, event_row
from tagtrail.service.keys import ensure_workspace
from tagtrail.store.database import prepare_store
from tagtrail.store.schema import events

RECEIVED = datetime(2026, 5, 1, 12, 0, 5, 250_000, tzinfo=UTC)
HOSTS = ("shop.example",)
IP = "203.0.113.77"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"
PAGE = "https://shop.example/spring?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
URLS = [
    PAGE,
    "https://shop.example/?gclid=abc",
    "https://shop.example/a?tt_hint=x.y",
    "https://shop.example/a?tt%5Fhint=x.y",
    "https://shop.example/a?tt_hint=",
    "https://shop.example/b",
    "http://[::1",
    "",
    "  ",
    "/relative",
]
REFERRERS = ["https://www.google.com/", "https://shop.example/x", "https://news.example/", ""]
TIMES = [
    "2026-05-01T12:00:00Z",
    "2026-05-01T13:00:00.123456+02:00",
    "2026-05-01T12:00:00",
    "2026-05-01",
    "2026-05-01 11:59:00Z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "yesterday",
    "",
]

ids = st.one_of(
    st.none(),
    st.sampled_from(["a1", " a2 ", "", "  ", "u1", "x" * 250]),
    st.integers(-5, 10**20),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=1),
)
texts = st.one_of(st.none(), st.sampled_from(["", " ", "Home", "é"]), st.integers(), st.booleans())
times = st.one_of(st.none(), st.sampled_from(TIMES), st.integers(-1, 2 * 10**9), st.booleans())
urls = st.one_of(st.none(), st.sampled_from(URLS), st.integers())
page = st.one_of(
    st.none(),
    st.integers(),
    st.fixed_dictionaries(
        {},
        optional={
            "url": urls,
            "referrer": st.one_of(st.none(), st.sampled_from(REFERRERS)),
            "title": texts,
            "path": texts,
        },
    ),
)
campaign = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            n: st.one_of(st.none(), st.sampled_from(["spring", "", "cpc", "google"]))
            for n in ("name", "source", "medium", "term", "content")
        },
    ),
)
context = st.one_of(
    st.none(),
    st.integers(),
    st.fixed_dictionaries(
        {},
        optional={
            "page": page,
            "campaign": campaign,
            "userAgent": st.one_of(st.none(), st.sampled_from(["", "curl/8", "x" * 600])),
            "user_agent": st.just("by name"),
            "ip": st.one_of(st.none(), st.sampled_from(["198.51.100.9", "2001:db8::1", "x", ""])),
            "library": st.one_of(st.none(), st.fixed_dictionaries({"name": texts})),
            "locale": st.text(max_size=3),
        },
    ),
)
values = st.one_of(
    st.none(), st.text(max_size=4), st.integers(), st.floats(allow_nan=False), st.sampled_from(URLS)
)
properties = st.one_of(
    st.none(),
    st.integers(),
    st.dictionaries(st.sampled_from(["url", "referrer", "title", "path", "revenue", "ü"]), values),
)
OPTIONAL: dict[str, Any] = {
    "messageId": ids,
    "anonymousId": ids,
    "userId": ids,
    "groupId": ids,
    "previousId": ids,
    "event": texts,
    "name": texts,
    "category": texts,
    "properties": properties,
    "traits": properties,
    "context": context,
    "timestamp": times,
    "sentAt": times,
    "originalTimestamp": times,
    "receivedAt": times,
    "writeKey": st.one_of(st.none(), st.just("k"), st.integers()),
    "integrations": st.one_of(st.none(), st.just({"All": True}), st.integers()),
    "message_id": st.just("by-name"),
}
GOOD: dict[str, Any] = {
    "groupId": st.sampled_from(["g1", 3]),
    "name": st.sampled_from(["Home", None, ""]),
    "properties": st.dictionaries(st.sampled_from(["url", "referrer", "title", "x"]), values),
    "traits": st.dictionaries(st.sampled_from(["plan", "ü"]), values),
    "context": st.fixed_dictionaries(
        {},
        optional={
            "page": st.fixed_dictionaries(
                {},
                optional={
                    "url": st.sampled_from(URLS),
                    "referrer": st.sampled_from(REFERRERS),
                    "title": st.sampled_from(["Spring", " ", None]),
                },
            ),
            "campaign": campaign,
            "userAgent": st.sampled_from(["", "curl/8", "x" * 600]),
            "ip": st.sampled_from(["198.51.100.9", "2001:db8::1", "x", ""]),
        },
    ),
    "timestamp": st.sampled_from(TIMES[:7]),
    "sentAt": st.sampled_from(TIMES[:7]),
    "originalTimestamp": st.sampled_from(TIMES[:5]),
}
a_good_event = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EVENT_TYPES),
        "messageId": st.sampled_from(["m1", "m2", " m3 ", 4, "x" * 250]),
        "userId": st.sampled_from(["u1", 42, "  ", None]),
        "anonymousId": st.sampled_from(["a1", " a2 ", 7, ""]),
        "previousId": st.sampled_from(["a1", "u0"]),
        "event": st.sampled_from(["Order Completed", " "]),
    },
    optional=GOOD,
)
a_wild_event = st.fixed_dictionaries(
    {"type": st.sampled_from([*EVENT_TYPES, "nope"])}, optional=OPTIONAL
) | st.one_of(st.integers(), st.fixed_dictionaries({}, optional={"userId": ids}))
SHARED: dict[str, Any] = {
    "sentAt": times,
    "writeKey": st.one_of(st.just("k"), st.integers()),
    "integrations": st.one_of(st.just({}), st.integers()),
    "context": st.just({"page": {"url": PAGE}}),
    "sent_at": st.just("2026-05-01T12:00:00Z"),
}
a_body = st.fixed_dictionaries(
    {"batch": st.lists(a_good_event, min_size=1, max_size=4)},
    optional={"sentAt": st.sampled_from(TIMES[:6]), "writeKey": st.just("k")},
) | st.fixed_dictionaries(
    {"batch": st.lists(a_good_event | a_wild_event, max_size=4)}, optional=SHARED
)


def full_path(text: str) -> list[tuple[Any, ...]] | None:
    """The full path's values, or None where it refuses (or cannot store) the batch."""
    try:
        parsed = parse_batch(json.loads(text))
        rows = [
            event_row(
                1,
                normalize(e, received_at=RECEIVED, ip=IP, user_agent=AGENT, site_hosts=HOSTS),
                site_hosts=HOSTS,
            )
            for e in parsed
        ]
    except (InvalidEvent, OverflowError):
        return None
    return [tuple(row[c] for c in EVENT_COLUMNS) for row in rows]


def fast_path(text: str, *, as_text: bool = False) -> list[tuple[Any, ...]] | None:
    quick = quick_batch(text.encode())
    if quick is None:
        return None
    try:
        return batch_values(
            1,
            quick,
            received_at=RECEIVED,
            ip=IP,
            user_agent=AGENT,
            site_hosts=HOSTS,
            times_as_text=as_text,
        )
    except OverflowError:
        return None


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a_body)
def test_the_fast_path_stores_what_the_full_path_stores(body: dict[str, Any]) -> None:
    text = json.dumps(body)
    fast = fast_path(text)
    if fast is not None:
        assert fast == full_path(text)


def _segment_batch() -> dict[str, Any]:
    context = {
        "page": {"url": PAGE, "referrer": "https://www.google.com/", "title": "Spring"},
        "userAgent": AGENT,
        "ip": "198.51.100.9",
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "campaign": {"source": "newsletter", "medium": "email", "name": "spring"},
    }
    return {
        "batch": [
            {
                "type": "page",
                "messageId": "m1",
                "anonymousId": "a1",
                "name": "Spring",
                "properties": {"url": PAGE, "path": "/spring", "title": "Spring"},
                "context": context,
                "timestamp": "2026-05-01T12:00:00.000Z",
            },
            {
                "type": "track",
                "messageId": "m2",
                "anonymousId": "a1",
                "event": "Order Completed",
                "properties": {"revenue": 19.5, "currency": "EUR", "note": "café"},
                "context": context,
                "originalTimestamp": "2026-05-01T12:01:00.000Z",
                "integrations": {"All": True},
            },
            {
                "type": "identify",
                "messageId": 3,
                "anonymousId": "a1",
                "userId": 42,
                "traits": {"plan": "pro"},
                "timestamp": "2026-05-01T12:02:00+02:00",
            },
            {"type": "alias", "messageId": "m4", "previousId": "a1", "userId": "42"},
            {"type": "group", "messageId": "m5", "userId": "42", "groupId": "g1"},
            {"type": "screen", "messageId": "m6", "userId": "42", "name": "Home"},
        ],
        "sentAt": "2026-05-01T12:03:00Z",
        "writeKey": "k",
    }


def test_what_segment_and_rudderstack_send_takes_the_fast_path() -> None:
    text = json.dumps(_segment_batch())
    fast = fast_path(text)
    assert fast is not None and len(fast) == 6
    assert fast == full_path(text)
    row = dict(zip(EVENT_COLUMNS, fast[0], strict=True))
    assert (row["tp_channel"], row["tp_campaign"], row["ip"]) == ("Email", "spring", "198.51.100.0")
    assert dict(zip(EVENT_COLUMNS, fast[2], strict=True))["message_id"] == "3"


def test_what_needs_the_full_path_is_left_to_it() -> None:
    changes: list[Callable[[dict[str, Any]], object]] = [
        lambda b: b["batch"][0].pop("messageId"),  # the id is a hash of the payload
        lambda b: b["batch"][0]["context"]["page"].update(url=URLS[2]),  # a tt_hint
        lambda b: b.update(context={"ip": "x"}),  # merged into every event
        lambda b: b["batch"][3].pop("previousId"),  # refused: the full path names the field
        lambda b: b["batch"][1]["properties"].update(big="x" * 33_000),  # 413
    ]
    for change in changes:
        body = _segment_batch()
        change(body)
        assert fast_path(json.dumps(body)) is None


def test_times_as_text_read_back_as_the_same_times(tmp_path: Path) -> None:
    """SQLite keeps times as text: the fast path's text is what SQLAlchemy reads back."""
    text = json.dumps(_segment_batch())
    as_text = fast_path(text, as_text=True)
    as_times = fast_path(text)
    assert as_text is not None and as_times is not None
    engine = prepare_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        ensure_workspace(engine, now=RECEIVED.replace(tzinfo=None))
        raw = engine.raw_connection()
        marks = ", ".join("?" for _ in EVENT_COLUMNS)
        raw.cursor().executemany(
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})", as_text
        )
        raw.commit()
        raw.close()
        with engine.connect() as conn:
            query = select(events.c.timestamp, events.c.received_at).order_by(events.c.id)
            stored = conn.execute(query).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in stored] == [(r[3], r[4]) for r in as_times]
    assert store_time(datetime(5, 1, 2, 3, 4, 5)) == "0005-01-02 03:04:05.000000"
