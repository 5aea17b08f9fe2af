"""`POST /v1/batch`'s fast path (`tagtrail.server.batch`) and its hand-over to the FastAPI route."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tagtrail.errors import StoreError
from tagtrail.server.api import collect as route
from tests.collect_server.conftest import Collector
from tests.collect_server.test_collect_api import _batch as plain_batch


def _batch(n: int, prefix: str = "f") -> dict[str, Any]:
    """`n` page events with UTMs, a referrer and a device time 1 s before `sentAt`."""
    body: dict[str, Any] = plain_batch(n, prefix)
    events: list[dict[str, Any]] = body["batch"]
    for i, event in enumerate(events):
        event.update(anonymousId=f"a{i % 3}", timestamp="2026-05-01T12:00:00.000Z")
        event["context"]["page"]["referrer"] = "https://www.google.com/"
    body["sentAt"] = "2026-05-01T12:00:01Z"
    return body


@pytest.fixture
def route_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many batches the FastAPI route stored (the fast path's hand-overs)."""
    calls: list[int] = []
    store = route.store_events

    async def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(len(args[2]))
        await store(*args, **kwargs)

    monkeypatch.setattr(route, "store_events", counted)
    yield calls


def test_a_plain_batch_is_stored_by_the_fast_path(
    collector: Collector, route_calls: list[int]
) -> None:
    for _ in range(3):  # the same batch three times: stored once
        answer = collector.send("/v1/batch", _batch(40))
        assert answer.status_code == 200 and answer.json() == {"success": True}
    assert route_calls == []
    rows = collector.rows()
    assert len(rows) == 40
    first = rows[0]
    assert (first.type, first.message_id, first.anonymous_id) == ("page", "f0", "a0")
    touch = (first.tp_kind, first.tp_channel, first.tp_source, first.tp_medium, first.tp_campaign)
    assert touch == ("page", "Email", "newsletter", "email", "spring")
    assert (first.received_at - first.timestamp).total_seconds() == 1.0  # sentAt − timestamp
    assert first.referrer == "https://www.google.com/" and first.properties == "{}"
    # without a messageId the route derives the id from the payload: it takes that batch
    body = _batch(2, "g")
    for event in body["batch"]:
        del event["messageId"]
    assert collector.send("/v1/batch", body).status_code == 200
    assert route_calls == [2]
    assert collector.count() == 42


def test_sent_at_corrects_the_clock_on_the_fast_path(lite_collector: Collector) -> None:
    body = _batch(1)
    body["batch"][0]["timestamp"] = "2026-05-01T13:00:00Z"  # the device is an hour fast
    body["sentAt"] = "2026-05-01T13:00:10Z"
    assert lite_collector.send("/v1/batch", body).status_code == 200
    row = lite_collector.rows()[0]
    assert (row.received_at - row.timestamp).total_seconds() == 10.0


def test_what_it_cannot_store_gets_the_routes_answer(lite_collector: Collector) -> None:
    c = lite_collector
    body = _batch(3)
    body["batch"][1]["timestamp"] = "yesterday"
    answer = c.send("/v1/batch", body)
    assert answer.status_code == 400
    assert "batch[1].timestamp: must be an ISO 8601 timestamp" in answer.json()["errors"]
    answer = c.client.post("/v1/batch", json=_batch(1))  # no key
    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == "*"
    answer = c.client.post("/v1/batch", json=_batch(1), auth=("tt_wrong", ""))
    assert answer.status_code == 401
    big = _batch(1)
    big["batch"][0]["properties"] = {"x": "y" * 33_000}
    assert c.send("/v1/batch", big).status_code == 413
    assert c.client.post("/v1/batch", content=b"[1", auth=(c.write_key, "")).status_code == 400
    surrogate = rb'{"batch": [{"type": "track", "userId": "u", "event": "\ud800"}]}'
    answer = c.client.post("/v1/batch", content=surrogate, auth=(c.write_key, ""))
    assert answer.status_code == 400 and answer.json()["error"] == "the body is not JSON"
    assert c.count() == 0
    bom = b"\xef\xbb\xbf" + json.dumps(_batch(1)).encode()
    assert c.client.post("/v1/batch", content=bom, auth=(c.write_key, "")).status_code == 200
    assert c.count() == 1


def test_gzip_and_the_body_key_take_the_fast_path(
    lite_collector: Collector, route_calls: list[int]
) -> None:
    c = lite_collector
    answer = c.client.post(
        "/v1/batch",
        content=gzip.compress(json.dumps(_batch(5)).encode()),
        auth=(c.write_key, ""),
        headers={"Content-Encoding": "gzip", "Origin": "https://shop.example"},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    body = {**_batch(5, "w"), "writeKey": c.write_key}
    answer = c.client.post(
        "/v1/batch", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 200
    assert route_calls == [] and c.count() == 10
    bad = c.client.post(
        "/v1/batch",
        content=b"not gzip",
        auth=(c.write_key, ""),
        headers={"Content-Encoding": "gzip"},
    )
    assert bad.status_code == 400 and "gzip" in bad.json()["error"]


def test_a_store_failure_is_503_not_success(
    lite_collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = lite_collector.client.app.state.writer

    async def broken(*_args: Any) -> None:
        raise StoreError("the store is gone", hint="try again later")

    monkeypatch.setattr(writer, "insert_values", broken)
    answer = lite_collector.send("/v1/batch", _batch(2))
    assert answer.status_code == 503
    assert answer.json()["errors"] == ["the store is gone", "try again later"]
