"""Hostile input on a live `tagtrail serve`: destinations no header can carry, a forged Host on
the trailing-slash redirect, numeric IPv4 hosts, and the redirect's click for every 302."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from harness.live import Answer, LiveServer, dump_store, fetch_many, query, start_server
from sqlalchemy import insert, select

from tagtrail.store.schema import clicks, links, recipients
from tests.server.test_redirect_live import click_count

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(data_dir=tmp_path_factory.mktemp("hardening") / "data") as live:
        yield live


def _one(server: LiveServer, path: str, headers: dict[str, str] | None = None) -> Answer:
    answers = asyncio.run(fetch_many(server.origin, [path], concurrency=1, headers=headers))
    assert len(answers) == 1, f"no answer to {path!r}"
    return answers[0]


#: code → (destination given, what the tracked URL and the Location hold instead)
UNSENDABLE = {
    "iriq": ("https://shop.example/?q=日本", "?q=%E6%97%A5%E6%9C%AC&"),
    "irif": ("https://shop.example/p#größe", "#gr%C3%B6%C3%9Fe"),
    "crlfq": ("https://shop.example/?a=1\r\nSet-Cookie: x=1", "?a=1%0D%0ASet-Cookie:%20x=1&"),
    "crlff": ("https://shop.example/#top\r\nX-Injected: 1", "#top%0D%0AX-Injected:%201"),
}


@pytest.mark.parametrize("code", sorted(UNSENDABLE))
def test_destinations_are_percent_encoded_and_every_click_answered(
    server: LiveServer, code: str
) -> None:
    url, location_part = UNSENDABLE[code]
    made = server.create_link(url, code=code)
    assert location_part in made["tracked_url"]
    assert made["tracked_url"].isascii() and "\r" not in made["tracked_url"]
    answer = _one(server, f"/{code}")
    assert answer.status == 302
    assert location_part in answer.headers["location"]
    assert "set-cookie" not in answer.headers and "x-injected" not in answer.headers
    assert click_count(server, code) == 1


def test_a_stored_raw_destination_is_encoded_at_the_redirect(server: LiveServer) -> None:
    """A link stored before destinations were normalised still redirects, and its click
    is stored only with its 302."""
    server.create_link("https://shop.example/", code="legacy")
    engine_url = server.store_url
    from tagtrail.store.database import open_store

    engine = open_store(engine_url)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(links).where(links.c.code == "legacy")).one()
            values = {c: getattr(row, c) for c in row._fields if c != "id"}
            values.update(code="legacy2", destination="https://shop.example/?q=日本\r\nX: 1")
            conn.execute(insert(links).values(**values))
    finally:
        engine.dispose()
    answer = _one(server, "/legacy2")
    assert answer.status == 302
    assert answer.headers["location"].startswith("https://shop.example/?q=%E6%97%A5%E6%9C%AC%0D%0A")
    assert "x" not in answer.headers
    assert click_count(server, "legacy2") == 1


def test_link_updates_normalise_the_destination_too(server: LiveServer) -> None:
    server.create_link("https://shop.example/", code="upd")
    changed = server.api("PATCH", "/api/links/upd", json={"url": "https://shop.example/?q=日本"})
    assert "?q=%E6%97%A5%E6%9C%AC&" in changed["tracked_url"]
    assert _one(server, "/upd").status == 302


def test_trailing_slash_redirect_ignores_the_host_header(server: LiveServer) -> None:
    answer = _one(server, "/api/links/", headers={"Host": "evil.example"})
    assert answer.status == 307
    assert "evil.example" not in answer.headers["location"]
    assert answer.headers["location"] == "/api/links"
    with_query = _one(server, "/api/links/?limit=1", headers={"Host": "evil.example"})
    assert with_query.headers["location"] == "/api/links?limit=1"


def test_trailing_slash_redirect_is_followed(server: LiveServer) -> None:
    with httpx.Client(base_url=server.origin, headers=server.headers) as client:
        response = client.get("/api/links/", follow_redirects=True)
    assert response.status_code == 200
    assert "data" in response.json()


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://0x7f.1/", "127.0.0.1"),
        ("https://2130706433/", "127.0.0.1"),
        ("https://0177.0.0.1/", "127.0.0.1"),
        ("https://127.1/", "127.0.0.1"),
        ("https://0xA9.0xFE.0xA9.0xFE/", "169.254.169.254"),
    ],
)
def test_numeric_hosts_are_stored_dotted(server: LiveServer, url: str, host: str) -> None:
    made = server.create_link(url)
    assert made["tracked_url"].startswith(f"https://{host}/")


def test_an_impossible_numeric_host_is_refused(server: LiveServer) -> None:
    with httpx.Client(base_url=server.origin, headers=server.headers) as client:
        body = {"url": "https://1.2.3.256/", "source": "news", "medium": "email"}
        response = client.post("/api/links", json=body)
    assert response.status_code == 422
    assert "not a valid" in response.text


def test_checker_sees_numeric_hosts_normalised(server: LiveServer) -> None:
    with httpx.Client(base_url=server.origin, headers=server.headers, timeout=30) as client:
        response = client.post("/api/check", json={"url": "http://0x7f.1/"})
    body = response.json()
    assert "127.0.0.1" in response.text, body
    assert "loopback" in response.text


def test_forwarded_queries_and_referrers_are_stored_without_personal_data(
    server: LiveServer,
) -> None:
    server.create_link("https://shop.example/landing", code="fwd", forward_query=True)
    path = "/fwd?email=someone@example.com&phone=%2B34600112233&ref=spring"
    answer = _one(server, path, headers={"User-Agent": BROWSER})
    assert answer.status == 302
    assert "email=someone@example.com" in answer.headers["location"]  # the site still gets it
    stored = query(
        server.store_url,
        select(clicks.c.url)
        .join(links, links.c.id == clicks.c.link_id)
        .where(links.c.code == "fwd"),
    )
    url = str(stored[0][0])
    assert "email=(redacted)" in url and "phone=(redacted)" in url and "ref=spring" in url
    page = {
        "url": "https://shop.example/p?mail=ann%40example.com&utm_source=news&utm_medium=email",
        "referrer": "https://webmail.example/?to=someone@example.com&view=inbox",
    }
    event = {"userId": "u-1", "event": "Viewed", "context": {"page": page}}
    batch = {"batch": [{**event, "type": "track", "messageId": "m-1"}]}
    with httpx.Client(base_url=server.origin, auth=(server.key, ""), timeout=30) as client:
        assert client.post("/v1/track", json=event).status_code == 200
        assert client.post("/v1/batch", json=batch).status_code == 200
    dump = dump_store(server.store_url)
    for secret in ("someone@example.com", "ann@example.com", "ann%40example.com", "34600112233"):
        assert secret not in dump
    assert "to=(redacted)&view=inbox" in dump and "mail=(redacted)&utm_source=news" in dump


def test_phone_recipients_are_keyed_hashes(server: LiveServer) -> None:
    server.create_link("https://shop.example/sms", code="sms")
    first = server.recipient_url("sms", "+34 600 11 22 33")
    second = server.recipient_url("sms", "+34600112233")
    for url in (first, second):
        assert _one(server, url.removeprefix(server.origin)).status == 302
    people = query(server.store_url, select(recipients.c.kind, recipients.c.key))
    phones = [p for p in people if p.kind == "phone"]
    assert len(phones) == 1 and len(phones[0].key) == 64
    stats = server.api("GET", "/api/links/sms/stats")
    assert "600112233" not in str(stats) and "phone:" in str(stats)
    assert "600112233" not in dump_store(server.store_url)
