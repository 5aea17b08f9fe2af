"""Clock-skew correction on receipt, and the session settings on reads (in-process, SQLite)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.collect_server.conftest import Collector, _collector
from tests.server.conftest import start

GOOGLE = {"url": "https://shop.example/a", "referrer": "https://www.google.com/"}
DIRECT = {"url": "https://shop.example/b"}


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def short_sessions(tmp_path: Path) -> Iterator[Collector]:
    for server in start(tmp_path, session_timeout_minutes=10):
        yield _collector(server)


def _visits(c: Collector) -> list[tuple[str, str]]:
    t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    batch = [
        {
            "type": "page",
            "userId": "u1",
            "anonymousId": "d1",
            "messageId": f"m{i}",
            "timestamp": _iso(t0 + timedelta(minutes=minutes)),
            "context": {"page": page},
        }
        for i, (minutes, page) in enumerate([(0, GOOGLE), (20, DIRECT), (60, DIRECT)])
    ]
    assert c.send("/v1/batch", {"batch": batch}).status_code == 200
    rows = csv.DictReader(io.StringIO(c.server.get("/api/journeys").text))
    return [(r["timestamp"], r["channel"]) for r in rows]


def test_a_direct_reload_within_the_session_is_no_arrival(lite_collector: Collector) -> None:
    assert _visits(lite_collector) == [
        ("2026-05-01T12:00:00Z", "Organic Search"),
        ("2026-05-01T13:00:00Z", "direct"),
    ]


def test_the_session_timeout_is_a_setting(short_sessions: Collector) -> None:
    assert _visits(short_sessions) == [
        ("2026-05-01T12:00:00Z", "Organic Search"),
        ("2026-05-01T12:20:00Z", "direct"),
        ("2026-05-01T13:00:00Z", "direct"),
    ]


def test_sent_at_corrects_a_wrong_device_clock(lite_collector: Collector) -> None:
    c = lite_collector
    wrong = datetime.now(UTC) + timedelta(hours=3)  # the device is 3 hours ahead
    body = {
        "batch": [
            {
                "type": "track",
                "userId": "u",
                "event": "e",
                "messageId": "s1",
                "timestamp": _iso(wrong - timedelta(seconds=5)),
            }
        ],
        "sentAt": _iso(wrong),
    }
    before = datetime.now(UTC).replace(tzinfo=None)
    assert c.send("/v1/batch", body).status_code == 200
    after = datetime.now(UTC).replace(tzinfo=None)
    row = c.rows()[0]
    assert before - timedelta(seconds=6) <= row.timestamp <= after - timedelta(seconds=4)
    assert before <= row.received_at <= after


def test_aliases_merge_users_and_conflicts_are_reported(collector: Collector) -> None:
    c = collector
    t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    batch = [
        {
            "type": "page",
            "anonymousId": "shared",
            "messageId": "p1",
            "timestamp": _iso(t0),
            "context": {"page": GOOGLE},
        },
        {
            "type": "identify",
            "anonymousId": "shared",
            "userId": "alice",
            "messageId": "i1",
            "timestamp": _iso(t0 + timedelta(minutes=1)),
        },
        {
            "type": "identify",
            "anonymousId": "shared",
            "userId": "bob",
            "messageId": "i2",
            "timestamp": _iso(t0 + timedelta(minutes=5)),
        },
        {
            "type": "alias",
            "previousId": "alice",
            "userId": "alice-2",
            "messageId": "a1",
            "timestamp": _iso(t0 + timedelta(minutes=9)),
        },
    ]
    assert c.send("/v1/batch", {"batch": batch}).status_code == 200
    alice = c.server.get("/api/profiles/alice").json()
    assert alice["identity"] == "alice-2" and alice["user_ids"] == ["alice", "alice-2"]
    assert alice["anonymous_ids"] == ["shared"] and alice["initial_channel"] == "Organic Search"
    bob = c.server.get("/api/profiles/bob").json()
    assert bob["anonymous_ids"] == [] and bob["touches"] == 0
    assert bob["conflicts"] == [
        {"kind": "anonymous", "id": "shared", "kept": "alice-2", "refused": "bob"}
    ]
