"""The redirect on a real `tagtrail serve` (issue 4, "Must show"): every 302 is a stored click,
even across kill -9, and the 404/410 pages. On SQLite and on the local PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.live import (
    Answer,
    LiveServer,
    endless_load,
    fetch_many,
    query,
    start_server,
    store_for,
)
from sqlalchemy import func, select

from tagtrail.store.schema import clicks, links
from tests.clicks.test_bots import BROWSER_AGENTS

DESTINATION = "https://shop.example/spring?ref=mail"
CHROME = BROWSER_AGENTS["Chrome desktop"]


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with store_for(request.param, tmp_path) as store, start_server(**store) as live:
        yield live


def click_count(server: LiveServer, code: str) -> int:
    statement = (
        select(func.count())
        .select_from(clicks.join(links, clicks.c.link_id == links.c.id))
        .where(links.c.code == code)
    )
    return int(query(server.store_url, statement)[0][0])


def test_20000_requests_are_20000_stored_clicks(server: LiveServer) -> None:
    link = server.create_link(DESTINATION, code="load")
    started = time.monotonic()
    answers = asyncio.run(fetch_many(server.origin, ["/load"] * 20_000, concurrency=64))
    elapsed = time.monotonic() - started

    assert len(answers) == 20_000
    wrong = [a for a in answers if not _is_redirect_to(a, link["tracked_url"])]
    assert wrong == []
    # Counted while the server still runs: a 302 is sent only after its click is committed.
    assert click_count(server, "load") == 20_000
    assert elapsed < 60


def test_kill_9_under_load_loses_no_acknowledged_click(server: LiveServer) -> None:
    link = server.create_link(DESTINATION, code="crash")
    answers: list[Answer] = []
    load = endless_load(server.origin, "/crash", answers)
    time.sleep(2.0)
    server.kill()
    load.join(30)
    assert not load.is_alive()
    acknowledged = sum(_is_redirect_to(a, link["tracked_url"]) for a in answers)
    assert acknowledged == len(answers) > 1000  # the load ran, and every answer was a 302

    with server.restart() as again:
        stored = click_count(again, "crash")
        assert stored >= acknowledged
        assert stored - acknowledged <= 32  # at most one unacknowledged click per connection
        assert httpx.get(f"{again.origin}/crash").status_code == 302
        assert click_count(again, "crash") == stored + 1


def _is_redirect_to(answer: Answer, location: str) -> bool:
    return (
        answer.status == 302
        and answer.headers.get("location") == location
        and answer.headers.get("cache-control") == "private, no-store"
    )


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    with start_server(data_dir=tmp_path / "data") as live:
        yield live


def test_pages_404_410_and_head_like_get(sqlite_server: LiveServer) -> None:
    server = sqlite_server
    live = server.create_link(DESTINATION, code="live")
    server.create_link(DESTINATION, code="off")
    server.api("POST", "/api/links/off/disable")
    server.create_link(DESTINATION, code="old", expires_at="2020-01-01T00:00:00")

    with httpx.Client(base_url=server.origin, headers={"user-agent": CHROME}) as client:
        get = client.get("/live")
        head = client.head("/live")
        assert get.status_code == head.status_code == 302
        assert get.headers["location"] == head.headers["location"] == live["tracked_url"]
        assert get.headers["cache-control"] == head.headers["cache-control"] == "private, no-store"
        assert head.content == b""

        for path, status, text in [
            ("/nope", 404, b"Link not found"),
            ("/off", 410, b"no longer active"),
            ("/old", 410, b"no longer active"),
        ]:
            page = client.get(path)
            assert page.status_code == status, path
            assert text in page.content
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["cache-control"] == "private, no-store"
            assert "location" not in page.headers
            bare = client.head(path)
            assert bare.status_code == status, path
            assert bare.content == b""
            assert bare.headers["content-length"] == page.headers["content-length"]
    # Only the two requests to the live link are clicks; HEAD is a bot click. The human click
    # keeps where it landed (its touchpoint); the bot click does not.
    columns = (clicks.c.method, clicks.c.is_bot, clicks.c.url)
    rows = query(server.store_url, select(*columns).order_by(clicks.c.id))
    assert [(r.method, bool(r.is_bot), r.url) for r in rows] == [
        ("GET", False, live["tracked_url"]),
        ("HEAD", True, None),
    ]


def test_two_workers_share_the_sqlite_store_through_the_writer_process(tmp_path: Path) -> None:
    with start_server(data_dir=tmp_path / "data", workers=2) as live:
        link = live.create_link(DESTINATION, code="shared")
        answers = asyncio.run(
            fetch_many(
                live.origin, ["/shared"] * 4_000, concurrency=64, headers={"User-Agent": CHROME}
            )
        )
        assert all(_is_redirect_to(a, link["tracked_url"]) for a in answers)
        assert click_count(live, "shared") == 4_000


def test_writer_threads_still_store_every_click(tmp_path: Path) -> None:
    with start_server(data_dir=tmp_path / "data", env={"TAGTRAIL_WRITER": "thread"}) as live:
        link = live.create_link(DESTINATION, code="threaded")
        answers = asyncio.run(fetch_many(live.origin, ["/threaded"] * 2_000, concurrency=32))
        assert all(_is_redirect_to(a, link["tracked_url"]) for a in answers)
        assert click_count(live, "threaded") == 2_000


def test_a_writer_process_that_dies_is_started_again(tmp_path: Path) -> None:
    with start_server(data_dir=tmp_path / "data", env={"TAGTRAIL_WRITER": "process"}) as live:
        live.create_link(DESTINATION, code="again")
        assert httpx.get(f"{live.origin}/again").status_code == 302
        found = subprocess.run(
            ["pgrep", "-f", "tagtrail.store.journal", "-g", str(live.proc.pid)],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert len(found) == 1
        os.kill(int(found[0]), signal.SIGKILL)
        statuses = []
        for _ in range(100):  # 503 while it is down (never a 302 for a click not stored)
            status = httpx.get(f"{live.origin}/again").status_code
            statuses.append(status)
            if status == 302:
                break
            time.sleep(0.05)
        assert statuses[-1] == 302
        assert set(statuses) <= {302, 503}
        assert click_count(live, "again") == 2
