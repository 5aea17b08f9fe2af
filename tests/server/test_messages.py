"""Campaign messages end to end on each backend: create, render, per-recipient codes on the
redirect, stats, and addresses sealed at rest (DESIGN §9)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from tagtrail.errors import InvalidInput, NotFound
from tagtrail.service.campaigns import create_campaign
from tagtrail.service.message_render import render_message
from tagtrail.service.messages import MessageSpec, create_message, message_stats
from tagtrail.store.database import open_store
from tagtrail.store.schema import message_recipients, metadata, sends
from tests.server.conftest import ORIGIN, Server, now

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
EMAIL = (
    '<table><tr><td><a href="https://shop.example/sale?a=1&amp;b=2">Shop the sale</a>'
    "<a href='https://shop.example/new'>New in</a> <a href=\"{{unsubscribe_url}}\">Unsub</a>"
    '<a href="mailto:help@shop.example">Help</a></td></tr></table>'
)
#: The create document's keys of DESIGN §9, in order (then name-independent extras).
CREATE_KEYS = ["message", "name", "campaign", "channel", "holdout", "links", "skipped"]
ADDRESSES = ["ann.secretive@mail.example", "+34600111222", "user-42"]


@pytest.fixture
def engine(server: Server) -> Iterator[Engine]:
    engine = open_store(server.settings.store_url)
    create_campaign(engine, 1, "spring", now=now())
    yield engine
    engine.dispose()


def _create(engine: Engine, body: str = EMAIL, channel: str = "email", **kw: str) -> dict:
    spec = MessageSpec(campaign="spring", channel=channel, body=body, preset="intercom", **kw)
    return create_message(engine, 1, spec, origin=ORIGIN, now=now())


def _render(engine: Engine, server: Server, message: int, csv_text: str) -> list[dict]:
    renderer, _, items = render_message(
        engine,
        1,
        message,
        lambda: csv_text.splitlines(keepends=True),
        secret=server.settings.secret(),
        origin=ORIGIN,
        sent_at=now() - timedelta(minutes=5),
        now=now(),
    )
    return [json.loads(renderer.json_line(item)) for item in items]


def test_create_document(engine: Engine) -> None:
    doc = _create(engine, holdout="10%")
    assert doc["campaign"] == "spring" and doc["channel"] == "email" and doc["holdout"] == 0.1
    assert [(x["position"], x["destination"], x["text"]) for x in doc["links"]] == [
        (1, "https://shop.example/sale?a=1&b=2", "Shop the sale"),
        (2, "https://shop.example/new", "New in"),
    ]
    first = doc["links"][0]
    assert first["short_url"] == f"{ORIGIN}/{first['code']}"
    assert "utm_source=intercom" in first["tracked_url"]
    assert "utm_content=shop-the-sale" in first["tracked_url"]
    assert doc["skipped"] == [
        {"position": 3, "url": "{{unsubscribe_url}}", "reason": "placeholder"},
        {"position": 4, "url": "mailto:help@shop.example", "reason": "scheme"},
    ]
    assert doc["segments"] is None


def test_sms_segments_and_warning(engine: Engine) -> None:
    body = (
        "ACME: spring sale, 20% off everything at acme.example/sale?p=1 " + "x" * 80 + " Reply STOP"
    )
    doc = _create(engine, body, "sms")
    assert doc["links"][0]["destination"] == "https://acme.example/sale?p=1"
    assert doc["segments"] == {"before": 1, "after": 2}
    assert doc["warnings"] and "1 to 2 segments" in doc["warnings"][0]


def test_bad_input_is_refused_and_nothing_written(engine: Engine, server: Server) -> None:
    with pytest.raises(InvalidInput, match="no trackable link"):
        _create(engine, '<a href="#top">top</a><a href="mailto:x@y.example">m</a>')
    with pytest.raises(InvalidInput, match="over the"):
        _create(engine, "x" * 1_000_001)
    with pytest.raises(NotFound, match="no campaign"):
        create_message(
            engine,
            1,
            MessageSpec("nope", "email", EMAIL, preset="intercom"),
            origin=ORIGIN,
            now=now(),
        )
    message = _create(engine)["message"]
    with pytest.raises(NotFound):
        _render(engine, server, 999, "recipient\na@b.example\n")
    for csv_text, where in (
        ("email\na@b.example\n", "line 1: the recipients CSV has no recipient column"),
        ("recipient\na@b.example\nnot@valid\n", "line 3: 'not@valid'"),
        ("recipient\n+12\n", "line 2: '\\+12'"),
        ("name,recipient\nA,a@b.example\nB,A@B.example\n", "line 3: 'A@B.example' is a dup"),
    ):
        with pytest.raises(InvalidInput, match=where):
            _render(engine, server, message, csv_text)
    with engine.connect() as conn:
        assert conn.execute(select(sends)).all() == []
        assert conn.execute(select(message_recipients)).all() == []


def test_render_redirect_stats_and_sealed_addresses(engine: Engine, server: Server) -> None:
    doc = _create(engine)
    csv_text = "recipient,name\n" + "".join(f"{a},x\n" for a in ADDRESSES)
    lines = _render(engine, server, doc["message"], csv_text)
    assert [line["recipient"] for line in lines] == ADDRESSES
    bodies = [line["body"] for line in lines]
    assert all(line["held_out"] is False for line in lines)
    codes = []
    for body in bodies:
        urls = [part.split('"')[0].split("'")[0] for part in body.split(ORIGIN + "/")[1:]]
        assert len(urls) == 2 and all(len(u) == 10 for u in urls)
        codes.append(urls)
        # only the href values changed
        assert body.replace(urls[0], "X").replace(urls[1], "Y").replace(ORIGIN + "/", "") == (
            EMAIL.replace("https://shop.example/sale?a=1&amp;b=2", "X").replace(
                "https://shop.example/new", "Y"
            )
        )
    assert codes[0][0][:8] == codes[0][1][:8] != codes[1][0][:8]
    with engine.connect() as conn:  # one row per recipient, not per (recipient, link)
        assert len(conn.execute(select(message_recipients)).all()) == 3
        assert len(conn.execute(select(sends)).all()) == 3

    client = server.client
    answer = client.get(f"/{codes[0][1]}", headers={"user-agent": CHROME}, follow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith("https://shop.example/new?") and "tt_hint=" in location
    assert "utm_content=new-in" in location
    client.get(f"/{codes[0][0]}", headers={"user-agent": CHROME}, follow_redirects=False)
    client.get(f"/{codes[2][0]}", headers={"user-agent": CHROME}, follow_redirects=False)
    assert client.head(f"/{codes[1][0]}", follow_redirects=False).status_code == 302
    assert client.get(f"/{codes[0][0][:8]}zz", follow_redirects=False).status_code == 404

    stats = message_stats(engine, 1, doc["message"], secret=server.settings.secret(), admin=True)
    assert (stats["sent"], stats["held_out"], stats["clicked"]) == (3, 0, 2)
    assert stats["click_rate"] == round(2 / 3, 4)
    assert stats["clicks"] == {"total": 4, "human": 3, "bot": 1}
    assert [(x["position"], x["human"], x["recipients"]) for x in stats["links"]] == [
        (1, 2, 2),
        (2, 1, 1),
    ]
    who = {r["recipient"]: (r["clicks"], r["positions"]) for r in stats["recipients"]}
    assert who == {ADDRESSES[0]: (2, [1, 2]), ADDRESSES[2]: (1, [1])}
    anonymous = message_stats(engine, 1, doc["message"], secret=b"x" * 32, admin=False)
    assert anonymous["recipients"] is None

    # The same recipient rendered again: one more send, the same codes.
    again = _render(engine, server, doc["message"], "recipient\n" + ADDRESSES[0] + "\n")
    assert again[0]["body"] == bodies[0]
    with engine.connect() as conn:
        assert len(conn.execute(select(sends)).all()) == 4

    # No address in clear anywhere in the store.
    if engine.dialect.name == "sqlite":
        engine.dispose()
        blobs = b"".join(p.read_bytes() for p in Path(server.settings.data_dir).rglob("*.db*"))
        assert blobs
    else:
        with engine.connect() as conn:
            blobs = "".join(
                str(row[0])
                for table in metadata.sorted_tables
                for row in conn.execute(text(f"SELECT t::text FROM {table.name} t"))
            ).encode()
    for address in ADDRESSES[:2]:
        assert address.encode() not in blobs
        assert address.lower().encode() not in blobs


@pytest.mark.usefixtures("engine")  # it makes the campaign
def test_api_create_render_stream_and_stats(server: Server) -> None:
    made = server.post(
        "/api/messages",
        json={"campaign": "spring", "channel": "email", "body": EMAIL, "preset": "intercom"},
    )
    assert made.status_code == 201, made.text
    doc = made.json()
    assert [k for k in doc][: len(CREATE_KEYS)] == CREATE_KEYS
    message = doc["message"]
    csv_body = "recipient\n" + "".join(f"r{n}@mail.example\n" for n in range(450))
    with server.client.stream(
        "POST",
        f"/api/messages/{message}/render?sent_at=2026-01-01T00:00:00Z",
        content=csv_body.encode(),
        headers={**server.auth(), "content-type": "text/csv"},
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in answer.iter_lines() if line]
    assert [line["recipient"] for line in lines] == [f"r{n}@mail.example" for n in range(450)]
    jsonl = '{"recipient": "+34600111222"}\n{"recipient": "user-1"}\n'
    answer = server.post(f"/api/messages/{message}/render", content=jsonl.encode())
    assert [json.loads(x)["recipient"] for x in answer.text.splitlines()] == [
        "+34600111222",
        "user-1",
    ]
    bad = server.post(
        f"/api/messages/{message}/render", content=b'{"recipient": "a@b.example"}\n{"x": 1}\n'
    )
    assert bad.status_code == 422 and "line 2" in bad.json()["error"]
    dup = server.post(f"/api/messages/{message}/render", content=b"recipient\nu1\nu1\n")
    assert dup.status_code == 422 and "line 3" in dup.json()["error"]
    assert server.post("/api/messages/77/render", content=b"recipient\nu\n").status_code == 404
    stats = server.get(f"/api/messages/{message}/stats").json()
    assert stats["sent"] == 452 and stats["recipients"] == []
    assert server.get("/api/messages").json()["count"] == 1
    assert server.get(f"/api/messages/{message}").json()["links"] == doc["links"]
    assert server.client.get("/api/messages").status_code == 401
    nothing = server.post(
        "/api/messages", json={"campaign": "spring", "channel": "email", "body": "<p>hi</p>"}
    )
    assert nothing.status_code == 422 and "no trackable link" in nothing.json()["error"]
    schema = server.client.get("/openapi.json").json()["paths"]
    assert {
        "/api/messages",
        "/api/messages/{message_id}/render",
        "/api/messages/{message_id}/stats",
    } <= set(schema)


def test_code_click_soon_after_its_send_is_a_bot_and_later_human(
    engine: Engine, server: Server
) -> None:
    """The redirect decides per second whether a code's send is long past; a click within
    `fast_click_seconds` (10 s) of the send must still be marked `fast_after_send`, each time."""
    message = _create(engine)["message"]
    codes = {}
    for who, ago in (("fresh@mail.example", timedelta(seconds=3)), ("old@mail.example", None)):
        renderer, _, items = render_message(
            engine,
            1,
            message,
            lambda who=who: ["recipient\n", f"{who}\n"],
            secret=server.settings.secret(),
            origin=ORIGIN,
            sent_at=now() - (ago or timedelta(days=1)),
            now=now(),
        )
        codes[who] = list(items)[0].link.split("/")[-1] + "01"
    for _ in range(2):  # the second click of the same second takes the cached way
        for code in codes.values():
            answer = server.client.get(
                f"/{code}?utm_x=1", headers={"user-agent": CHROME}, follow_redirects=False
            )
            assert answer.status_code == 302 and "tt_hint=" in answer.headers["location"]
            answer = server.client.get(
                f"/{code}", headers={"user-agent": CHROME}, follow_redirects=False
            )
            assert answer.status_code == 302 and "tt_hint=" in answer.headers["location"]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.public_id IS NOT NULL, c.is_bot, c.bot_reasons, c.identified "
                "FROM clicks c JOIN recipients r ON r.id = c.recipient_id ORDER BY c.id"
            )
        ).all()
    assert len(rows) == 8, rows
    fresh = [r for n, r in enumerate(rows) if n % 4 < 2]
    old = [r for n, r in enumerate(rows) if n % 4 >= 2]
    # a soft reason alone: recorded, not a bot by itself
    assert all("fast_after_send" in r[2] and r[3] for r in fresh), rows
    assert all(not r[1] and r[2] == "" and r[3] for r in old), rows
