"""Admin writes on a real `tagtrail serve` while clicks and events arrive (issue 16, item 1).

Two clients loop on `POST /api/goals`, `POST /api/campaigns`, `POST /api/links` and
`PATCH /api/workspace` while the redirect and `/v1/batch` are driven for eight seconds. Every
admin write must be answered 2xx (no 500, no reset connection, no 503 under this load), and
every acknowledged one must be in the store. On SQLite and on the local PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from harness.live import LiveServer, fetch_many, query, start_server, store_for, write_key
from sqlalchemy import func, select

from tagtrail.store.schema import campaigns, clicks, events, goals, links, workspaces
from tests.conftest import CliResult

LOAD_SECONDS = 8.0
WRITERS = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with store_for(request.param, tmp_path) as store, start_server(**store) as live:
        yield live


@dataclass
class Writer:
    """One admin client's loop: what was acknowledged, and what failed."""

    name: str
    goals: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)  # each acknowledged PATCH's utm_content
    failures: list[str] = field(default_factory=list)

    def run(self, server: LiveServer, until: threading.Event) -> None:
        with httpx.Client(base_url=server.origin, headers=server.headers, timeout=60) as client:
            i = 0
            while not until.is_set():
                tag = f"{self.name}-{i}"
                self._call(client, "POST", "/api/goals", {"event": f"Goal {tag}"}, self.goals, tag)
                self._call(
                    client, "POST", "/api/campaigns", {"name": f"c-{tag}"}, self.campaigns, tag
                )
                body = {
                    "url": f"https://shop.example/{tag}",
                    "code": f"l-{tag}",
                    "source": "mail",
                    "medium": "email",
                }
                self._call(client, "POST", "/api/links", body, self.links, tag)
                patch = {"default_utm": {"content": f"w-{tag}"}}
                self._call(client, "PATCH", "/api/workspace", patch, self.contents, tag)
                i += 1

    def _call(
        self, client: httpx.Client, method: str, path: str, body: object, done: list[str], tag: str
    ) -> None:
        try:
            response = client.request(method, path, json=body)
        except httpx.TransportError as exc:
            self.failures.append(f"{method} {path}: {type(exc).__name__} {exc}")
            return
        if response.is_success:
            done.append(tag)
        else:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")


async def _batches(origin: str, key: str, deadline: float, sent: list[int]) -> None:
    """POST /v1/batch of 50 track events over keep-alive connections until `deadline`."""
    host, _, port = origin.removeprefix("http://").partition(":")
    auth = base64.b64encode(f"{key}:".encode()).decode()

    async def worker(n: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            i = 0
            while time.monotonic() < deadline:
                batch = [
                    {
                        "type": "track",
                        "event": "Viewed",
                        "userId": f"u{n}",
                        "messageId": f"{n}-{i}-{j}",
                    }
                    for j in range(50)
                ]
                body = json.dumps({"batch": batch}).encode()
                head = (
                    f"POST /v1/batch HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                answer = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in answer.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                if answer.startswith(b"HTTP/1.1 200"):
                    sent.append(50)
                i += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(n) for n in range(4)))


async def _load(server: LiveServer, key: str, code: str) -> tuple[int, int]:
    deadline = time.monotonic() + LOAD_SECONDS

    def paths() -> Iterator[str]:
        while time.monotonic() < deadline:
            yield f"/{code}"

    sent: list[int] = []
    answers, _ = await asyncio.gather(
        fetch_many(server.origin, paths(), concurrency=16),
        _batches(server.origin, key, deadline, sent),
    )
    return len(answers), sum(sent)


def test_admin_writes_under_click_and_event_load_all_commit(
    server: LiveServer, run_cli: Callable[..., CliResult]
) -> None:
    key = write_key(run_cli, server)
    server.create_link("https://shop.example/hot", code="hot")
    stop = threading.Event()
    writers = [Writer(f"a{n}") for n in range(WRITERS)]
    threads = [threading.Thread(target=w.run, args=(server, stop)) for w in writers]
    for thread in threads:
        thread.start()
    try:
        redirected, tracked = asyncio.run(_load(server, key, "hot"))
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)

    failures = [f for w in writers for f in w.failures]
    acknowledged = sum(
        len(w.goals) + len(w.campaigns) + len(w.links) + len(w.contents) for w in writers
    )
    kinds = Counter(f.split(" {")[0] for f in failures)
    assert failures == [], f"{len(failures)} of {acknowledged + len(failures)} failed: {kinds}"
    # The load was real: clicks and events were stored while the admin writes ran.
    assert redirected > 500 and tracked > 1000
    url = server.store_url
    stored_clicks = query(url, select(func.count()).select_from(clicks))[0][0]
    stored_events = query(url, select(func.count()).select_from(events))[0][0]
    assert stored_clicks >= redirected and stored_events >= tracked
    # Every acknowledged admin write is in the store.
    stored_goals = {r[0] for r in query(url, select(goals.c.event))}
    stored_campaigns = {r[0] for r in query(url, select(campaigns.c.name))}
    stored_links = {r[0] for r in query(url, select(links.c.code))}
    for w in writers:
        assert w.goals and w.campaigns and w.links and w.contents
        assert {f"Goal {t}" for t in w.goals} <= stored_goals
        assert {f"c-{t}" for t in w.campaigns} <= stored_campaigns
        assert {f"l-{t}" for t in w.links} <= stored_links
    # The workspace holds the last acknowledged PATCH of one of the two clients.
    (default_utm,) = query(url, select(workspaces.c.default_utm))[0]
    assert json.loads(default_utm)["content"] in {f"w-{w.contents[-1]}" for w in writers}
