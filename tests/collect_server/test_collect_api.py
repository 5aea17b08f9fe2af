"""The /v1 tracking API in-process: storage after commit, dedup, limits, auth, CORS, pixel."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tagtrail.store.schema import events
from tests.collect_server.conftest import Collector

PAGE = "https://shop.example/spring?utm_source=newsletter&utm_medium=email&utm_campaign=spring"


def _batch(n: int, prefix: str = "m") -> dict[str, object]:
    return {
        "batch": [
            {
                "type": "page",
                "messageId": f"{prefix}{i}",
                "anonymousId": "a1",
                "context": {"page": {"url": PAGE}},
            }
            for i in range(n)
        ],
        "sentAt": "2026-05-01T12:00:00Z",
    }


def test_every_call_is_stored_after_commit(collector: Collector) -> None:
    calls = {
        "track": {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 9}},
        "identify": {"userId": "u1", "anonymousId": "a1", "traits": {"plan": "pro"}},
        "page": {"anonymousId": "a1", "context": {"page": {"url": PAGE}}},
        "screen": {"userId": "u1", "name": "Home"},
        "alias": {"userId": "u1", "previousId": "a0"},
        "group": {"userId": "u1", "groupId": "g1"},
    }
    for kind, body in calls.items():
        answer = collector.send(f"/v1/{kind}", body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"success": True}
    assert collector.send("/v1/batch", _batch(3)).json() == {"success": True}
    rows = collector.rows()
    assert [r.type for r in rows[:6]] == list(calls)
    assert len(rows) == 9
    page = rows[2]
    assert (page.tp_channel, page.tp_source, page.tp_campaign) == ("Email", "newsletter", "spring")
    assert page.ip == "testclient" or page.ip is None  # the test client has no IP address


def test_the_same_batch_three_times_is_stored_once(collector: Collector) -> None:
    for _ in range(3):
        assert collector.send("/v1/batch", _batch(50)).status_code == 200
    assert collector.count() == 50
    # without messageIds each call is an event of its own (only a client's ids deduplicate)
    body = {"userId": "u9", "event": "Clicked", "timestamp": "2026-05-01T12:00:00Z"}
    for _ in range(3):
        assert collector.send("/v1/track", body).status_code == 200
    assert collector.count() == 53


def test_write_key_as_basic_user_bearer_or_body(lite_collector: Collector) -> None:
    c = lite_collector
    body = {"userId": "u1", "event": "A"}
    basic = base64.b64encode(f"{c.write_key}:".encode()).decode()
    assert (
        c.client.post(
            "/v1/track", json=body, headers={"Authorization": f"Basic {basic}"}
        ).status_code
        == 200
    )
    assert (
        c.client.post(
            "/v1/track",
            json={**body, "event": "B"},
            headers={"Authorization": f"Bearer {c.write_key}"},
        ).status_code
        == 200
    )
    assert (
        c.client.post("/v1/track", json={**body, "event": "C", "writeKey": c.write_key}).status_code
        == 200
    )
    admin = c.server.admin_key
    assert (
        c.client.post("/v1/track", json={**body, "event": "D"}, auth=(admin, "")).status_code == 200
    )
    for bad in ({}, {"Authorization": "Basic nope"}, {"Authorization": "Bearer tt_write_unknown"}):
        answer = c.client.post("/v1/track", json=body, headers=bad)
        assert answer.status_code == 401
        assert answer.json()["ok"] is False
    # a write key cannot use the admin API
    assert (
        c.client.get("/api/goals", headers={"Authorization": f"Bearer {c.write_key}"}).status_code
        == 401
    )


def test_limits_answer_413_with_the_error_body(lite_collector: Collector) -> None:
    c = lite_collector
    big = {"userId": "u1", "event": "A", "properties": {"x": "y" * 33_000}}
    answer = c.send("/v1/track", big)
    assert answer.status_code == 413
    assert answer.json()["status"] == 413 and answer.json()["errors"]
    huge = {
        "batch": [{"type": "track", "userId": "u", "event": "e", "properties": {"x": "y" * 30_000}}]
        * 18
    }
    answer = c.send("/v1/batch", huge)
    assert answer.status_code == 413
    one_big = {"batch": [big]}
    assert c.send("/v1/batch", one_big).status_code == 413
    gz = gzip.compress(json.dumps(huge).encode())
    answer = c.client.post(
        "/v1/batch", content=gz, auth=(c.write_key, ""), headers={"Content-Encoding": "gzip"}
    )
    assert answer.status_code == 413
    assert c.count() == 0


def test_invalid_events_are_400_and_a_batch_is_all_or_nothing(lite_collector: Collector) -> None:
    c = lite_collector
    answer = c.send("/v1/track", {"userId": "u1"})
    assert answer.status_code == 400
    assert "event: is required" in answer.json()["errors"]
    body = _batch(2)
    body["batch"].append({"type": "nope", "userId": "u"})  # type: ignore[attr-defined]
    answer = c.send("/v1/batch", body)
    assert answer.status_code == 400
    assert any(e.startswith("batch[2].type") for e in answer.json()["errors"])
    assert (
        c.client.post("/v1/track", content=b"{not json", auth=(c.write_key, "")).status_code == 400
    )
    assert c.count() == 0


def test_gzip_and_text_plain_bodies(lite_collector: Collector) -> None:
    c = lite_collector
    raw = json.dumps(_batch(2)).encode()
    answer = c.client.post(
        "/v1/batch",
        content=gzip.compress(raw),
        auth=(c.write_key, ""),
        headers={"Content-Encoding": "gzip"},
    )
    assert answer.status_code == 200
    body = {**_batch(1, "x"), "writeKey": c.write_key}
    answer = c.client.post(
        "/v1/batch", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 200
    assert c.count() == 3


def test_cors_preflight_and_headers(lite_collector: Collector) -> None:
    c = lite_collector
    for path in ("/v1/batch", "/v1/track", "/t.js", "/t.gif"):
        answer = c.client.options(
            path,
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,authorization",
            },
        )
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "POST" in answer.headers["access-control-allow-methods"]
        assert "content-type" in answer.headers["access-control-allow-headers"].lower()
    answer = c.send(
        "/v1/track", {"userId": "u", "event": "e"}, headers={"Origin": "https://shop.example"}
    )
    assert answer.headers["access-control-allow-origin"] == "*"
    answer = c.client.post("/v1/track", json={"userId": "u", "event": "e"})
    assert answer.status_code == 401 and answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in c.server.get("/api/goals").headers


def test_snippet_is_served_small_and_valid(lite_collector: Collector, tmp_path: Path) -> None:
    answer = lite_collector.client.get("/t.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert len(answer.content) < 4096
    for needle in (
        b"tt_aid",
        b"SameSite=Lax",
        b"data-cookieless",
        b"tt_hint",
        b"replaceState",
        b"sendBeacon",
        b"/v1/batch",
    ):
        assert needle in answer.content
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = tmp_path / "t.js"
    script.write_bytes(answer.content)
    subprocess.run([node, "--check", str(script)], check=True, capture_output=True)


def test_pixel_stores_a_page_view_and_answers_a_gif(collector: Collector) -> None:
    c = collector
    answer = c.client.get("/t.gif", params={"k": c.write_key, "url": PAGE, "aid": "a7"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/gif"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.content.startswith(b"GIF89a")
    answer = c.client.get(
        "/t.gif",
        params={"k": c.write_key, "t": "track", "e": "Signed Up"},
        headers={"Referer": PAGE, "User-Agent": "Mozilla/5.0 test"},
    )
    assert answer.status_code == 200
    rows = c.rows()
    assert rows[0].anonymous_id == "a7" and rows[0].tp_channel == "Email"
    assert rows[1].type == "track" and rows[1].event == "Signed Up"
    assert rows[1].anonymous_id.startswith("ck-")  # no id given: the cookieless hash
    assert c.client.get("/t.gif", params={"k": "bad"}).status_code == 401


def test_cookieless_ids_are_derived_stable_within_a_day_and_per_agent(
    lite_collector: Collector,
) -> None:
    c = lite_collector
    page = {"type": "page", "context": {"page": {"url": PAGE}}}
    for agent in ("Mozilla/5.0 A", "Mozilla/5.0 A", "Mozilla/5.0 B"):
        body = {"batch": [page], "cookieless": True, "writeKey": c.write_key}
        answer = c.client.post("/v1/batch", json=body, headers={"User-Agent": agent})
        assert answer.status_code == 200, answer.text
    ids = [r.anonymous_id for r in c.rows()]
    assert len(ids) == 3  # no messageId: each call is an event, also the same payload twice
    assert all(i.startswith("ck-") and len(i) == 35 for i in ids)
    assert ids[0] == ids[1] != ids[2]
    # without the flag an event with no id is refused, not given one
    assert c.send("/v1/batch", {"batch": [page]}).status_code == 400
    assert len(c.rows(events)) == 3


def test_calls_without_a_message_id_are_each_stored(collector: Collector) -> None:
    c = collector
    track = {"userId": "ntX", "event": "Add To Cart"}
    batch = {"batch": [{"type": "track", **track}, {"type": "track", **track}]}
    pixel = {"k": c.write_key, "t": "track", "e": "Add To Cart", "aid": "a9", "url": PAGE}
    for _ in range(2):
        assert c.send("/v1/track", track).json() == {"success": True}
        assert c.send("/v1/batch", batch).json() == {"success": True}
        assert c.client.get("/t.gif", params=pixel).status_code == 200
    rows = c.rows()
    assert len(rows) == 2 + 4 + 2  # one row per event of every call
    assert len({r.message_id for r in rows}) == len(rows)
    assert all(r.message_id.startswith("tt-") and len(r.message_id) == 35 for r in rows)


def test_the_same_client_message_id_is_stored_once(collector: Collector) -> None:
    c = collector
    track = {"userId": "ntX", "event": "Add To Cart", "messageId": "client-1"}
    batch = {"batch": [{"type": "track", **track, "messageId": "client-2"}]}
    for _ in range(3):
        assert c.send("/v1/track", track).json() == {"success": True}
        assert c.send("/v1/batch", batch).json() == {"success": True}
    assert sorted(r.message_id for r in c.rows()) == ["client-1", "client-2"]
