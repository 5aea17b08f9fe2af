"""A real `tagtrail serve` on loopback: the official Segment and RudderStack Python libraries
send events to it, and kill -9 under load loses no acknowledged event (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from harness.live import LiveServer, write_key
from sqlalchemy import select

from tagtrail.store.database import prepare_store
from tagtrail.store.schema import events
from tests.conftest import CliResult

_write_key = write_key


def _message_ids(server: LiveServer) -> set[str]:
    engine = prepare_store(server.store_url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(select(events.c.message_id))}
    finally:
        engine.dispose()


def test_segment_and_rudderstack_libraries(
    live: LiveServer, run_cli: Callable[..., CliResult]
) -> None:
    from rudderstack.analytics.client import Client as Rudder
    from segment.analytics.client import Client as Segment

    key = _write_key(run_cli, live)
    live.api("POST", "/api/goals", json={"event": "Order Completed", "revenue": "revenue"})
    errors: list[Any] = []
    page = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=may"
    segment = Segment(key, host=live.origin, on_error=lambda e, _batch: errors.append(e))
    segment.page(anonymous_id="seg-a1", context={"page": {"url": page}})
    segment.identify("seg-u1", {"plan": "pro"}, anonymous_id="seg-a1")
    segment.track("seg-u1", "Order Completed", {"revenue": 49.9})
    segment.flush()
    segment.shutdown()
    rudder = Rudder(key, host=live.origin, gzip=True, on_error=lambda e, _batch: errors.append(e))
    rudder.page(
        anonymous_id="rs-a1",
        context={"page": {"url": "https://shop.example/", "referrer": "https://www.bing.com/"}},
    )
    rudder.identify("rs-u1", {"plan": "free"}, anonymous_id="rs-a1")
    rudder.track("rs-u1", "Order Completed", {"revenue": 10})
    rudder.flush()
    rudder.shutdown()
    assert errors == []
    stored = _message_ids(live)
    assert len(stored) == 6
    seg = live.api("GET", "/api/profiles/seg-u1")
    assert seg["initial_channel"] == "Email" and seg["anonymous_ids"] == ["seg-a1"]
    assert seg["conversions"] == 1
    rs = live.api("GET", "/api/profiles/rs-u1")
    assert rs["initial_channel"] == "Organic Search" and rs["initial_utm_source"] == "bing"
    journeys = httpx.get(f"{live.origin}/api/journeys", headers=live.headers).text
    assert "seg-u1," in journeys and ",49.90" in journeys and ",10.00" in journeys


def test_profile_goals_and_export_through_the_api(
    live: LiveServer, run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    remote = ["--api", live.origin, "--key", live.key]
    assert run_cli("goals", "add", "Signed Up", *remote).code == 0
    assert run_cli("goals", "list", "--json", *remote).json()["data"] == [
        {"event": "Signed Up", "revenue": None}
    ]
    lines = tmp_path / "events.jsonl"
    lines.write_text(
        '{"type": "page", "anonymousId": "a9", "messageId": "x1", "context": {"page": '
        '{"url": "https://shop.example/?gclid=abc"}}}\n'
        '{"type": "track", "anonymousId": "a9", "userId": "u9", "event": "Signed Up", '
        '"messageId": "x2"}\n'
    )
    sent = run_cli("import", str(lines), "--json", *remote)
    assert sent.code == 0, sent.out + sent.err
    assert sent.json() == {"format": "segment", "events": 2}
    profile = run_cli("profile", "u9", "--json", *remote)
    assert profile.code == 0 and profile.json()["initial_channel"] == "Paid Search"
    out = tmp_path / "j.csv"
    assert run_cli("export", "--journeys", str(out), *remote).code == 0
    assert out.read_text().splitlines()[1:] and "Paid Search" in out.read_text()
    journey = tmp_path / "j2.csv"
    journey.write_text(out.read_text())
    refused = run_cli("import", str(journey), *remote)
    assert refused.code == 2


def test_kill_9_under_load_loses_no_acknowledged_event(
    live: LiveServer, run_cli: Callable[..., CliResult]
) -> None:
    key = _write_key(run_cli, live)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(base_url=live.origin, auth=(key, ""), timeout=10) as client:
            n = 0
            while not stop.is_set():
                ids = [f"w{worker}-{n}-{i}" for i in range(50)]
                n += 1
                body = {
                    "batch": [
                        {"type": "track", "userId": "u", "event": "e", "messageId": m} for m in ids
                    ]
                }
                try:
                    answer = client.post("/v1/batch", json=body)
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    with lock:
                        acknowledged.update(ids)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    live.kill()
    stop.set()
    for thread in threads:
        thread.join(15)
    assert len(acknowledged) > 500
    missing = acknowledged - _message_ids(live)
    assert not missing, f"{len(missing)} acknowledged events were lost"
    with live.restart() as again:  # the store is sound and the same batch is stored once
        body = {"batch": [{"type": "track", "userId": "u", "event": "e", "messageId": "w0-0-0"}]}
        for _ in range(3):
            assert (
                httpx.post(f"{again.origin}/v1/batch", json=body, auth=(key, "")).status_code == 200
            )
        assert len(_message_ids(again)) == len(_message_ids(live))
