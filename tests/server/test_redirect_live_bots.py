"""Bot flagging and privacy on a real `tagtrail serve` (issue 4, "Must show"): scanners, HEAD,
prefetch, empty user agents, honeypots, fast and burst clicks are bot clicks; real browsers are
not; and no email address or full IP reaches the database. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from harness.live import (
    LiveServer,
    dump_store,
    fetch_many,
    query,
    random_secret,
    start_server,
    store_for,
)
from sqlalchemy import select

from tagtrail.service.collected import load_collected
from tagtrail.service.sends import SendSpec, record_sends
from tagtrail.store.database import prepare_store
from tagtrail.store.schema import clicks, links, workspaces
from tests.clicks.test_bots import BROWSER_AGENTS, SCANNER_AGENTS

CHROME = BROWSER_AGENTS["Chrome desktop"]
EMAILS = ("alice@example.com", "bob@example.com", "carol@example.com")
PROTECTED = "https://urldefense.proofpoint.com/v2/url?u=https-3A__go.example_fast"


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    env = {"TAGTRAIL_SECRET_KEY": random_secret()}
    with store_for(request.param, tmp_path) as store, start_server(**store, env=env) as live:
        yield live


def record_send(server: LiveServer, recipient: str, campaign: str) -> None:
    """A send of `campaign` to `recipient`, now (through the service, on the server's store)."""
    engine = prepare_store(server.store_url)
    try:
        with engine.connect() as conn:
            workspace_id = conn.execute(select(workspaces.c.id)).scalar_one()
        now = datetime.now(UTC).replace(tzinfo=None)
        spec = SendSpec(recipient, sent_at=now, campaign=campaign, message="m1", channel="email")
        secret = server.env["TAGTRAIL_SECRET_KEY"].encode()
        assert record_sends(engine, workspace_id, [spec], secret=secret, now=now) == 1
    finally:
        engine.dispose()


def verdicts(server: LiveServer) -> dict[str, list[tuple[bool, str]]]:
    """code → [(is_bot, bot_reasons)] in click order."""
    statement = (
        select(links.c.code, clicks.c.is_bot, clicks.c.bot_reasons)
        .join(links, clicks.c.link_id == links.c.id)
        .order_by(clicks.c.id)
    )
    found: dict[str, list[tuple[bool, str]]] = {}
    for code, is_bot, reasons in query(server.store_url, statement):
        found.setdefault(code, []).append((bool(is_bot), reasons))
    return found


def test_bots_are_flagged_browsers_are_not_and_nothing_personal_is_stored(
    server: LiveServer,
) -> None:
    for code in ("bot", "honey", "human", "fast", "b1", "b2", "b3", "mine"):
        # One campaign per link but the burst's (a visitor clicking three links of one
        # campaign within two seconds is a burst, a soft signal).
        campaign = "burst" if code.startswith("b") and code != "bot" else code
        server.create_link(
            f"https://shop.example/{code}", code=code, campaign=campaign, honeypot=code == "honey"
        )
    burst_urls = [server.recipient_url(f"b{n}", "bob@example.com") for n in (1, 2, 3)]
    fast_url = server.recipient_url("fast", "carol@example.com")
    alice_url = server.recipient_url("mine", "alice@example.com")
    record_send(server, "bob@example.com", "burst")
    record_send(server, "carol@example.com", "fast")
    sent = time.monotonic()

    with httpx.Client(headers={"user-agent": CHROME}) as client:
        for agent in SCANNER_AGENTS.values():
            assert client.get(f"{server.origin}/bot", headers={"user-agent": agent}).is_redirect
        assert client.head(f"{server.origin}/bot").is_redirect
        for name, value in [("sec-purpose", "prefetch;prerender"), ("purpose", "prefetch")]:
            assert client.get(f"{server.origin}/bot", headers={name: value}).is_redirect
        assert client.get(f"{server.origin}/bot", headers={"user-agent": ""}).is_redirect
        assert client.get(f"{server.origin}/honey").is_redirect
        for agent in BROWSER_AGENTS.values():
            assert client.get(f"{server.origin}/human", headers={"user-agent": agent}).is_redirect
        assert client.get(alice_url).is_redirect
        time.sleep(max(0.0, 1.0 - (time.monotonic() - sent)))
        # One second after the send, through a link-protection wrapper: two soft signals.
        assert client.get(fast_url, headers={"referer": PROTECTED}).is_redirect
        # One second after the send, three links of the message within two seconds.
        for url in burst_urls:
            assert client.get(url).is_redirect
    # No user agent header at all (httpx always sends one).
    assert asyncio.run(fetch_many(server.origin, ["/bot"], concurrency=1))[0].status == 302

    found = verdicts(server)
    bot = found["bot"]
    assert len(bot) == 20 + 1 + 2 + 1 + 1
    assert [is_bot for is_bot, _ in bot] == [True] * len(bot)
    assert all("crawler_ua" in reasons for _, reasons in bot[:20])
    assert [reasons for _, reasons in bot[20:]] == [
        "head",
        "prefetch",
        "prefetch",
        "empty_ua",
        "empty_ua",
    ]
    assert found["honey"] == [(True, "honeypot")]
    assert found["fast"] == [(True, "fast_after_send scanner_referrer")]
    # The click that completes the burst is a bot, and it re-flags the first two (rule B4).
    assert found["b3"] == [(True, "fast_after_send burst")]
    assert found["b1"] == found["b2"] == [(True, "fast_after_send burst")]
    assert found["human"] == [(False, "")] * 11
    assert found["mine"] == [(False, "")]

    dump = dump_store(server.store_url)
    for email in EMAILS:
        assert email not in dump and email.split("@")[0] + "@" not in dump
    assert "127.0.0.1" not in dump
    assert "127.0.0.0" in dump  # the anonymised address (/24)
    assert server.key not in dump and server.env["TAGTRAIL_SECRET_KEY"] not in dump


def test_every_click_of_a_burst_is_a_bot(tmp_path: Path) -> None:
    env = {"TAGTRAIL_SECRET_KEY": random_secret()}
    with start_server(data_dir=tmp_path / "data", env=env) as server:
        for n in (1, 2, 3):
            server.create_link(f"https://shop.example/{n}", code=f"b{n}", campaign="burst")
        urls = [server.recipient_url(f"b{n}", "bob@example.com") for n in (1, 2, 3)]
        record_send(server, "bob@example.com", "burst")
        time.sleep(1.0)
        with httpx.Client(headers={"user-agent": CHROME}) as client:
            for url in urls:
                assert client.get(url).is_redirect
        found = verdicts(server)
        urls = [row.url for row in query(server.store_url, select(clicks.c.url))]
        engine = prepare_store(server.store_url)
        try:
            with engine.connect() as conn:
                workspace_id = conn.execute(select(workspaces.c.id)).scalar_one()
            arrivals = load_collected(engine, workspace_id).arrivals
        finally:
            engine.dispose()
    assert [found[f"b{n}"][0][0] for n in (1, 2, 3)] == [True, True, True]
    assert urls == [None, None, None]  # a bot's click has no landing URL, even found out later
    assert arrivals == {}  # so no touchpoint: the first two left the journeys when re-flagged
