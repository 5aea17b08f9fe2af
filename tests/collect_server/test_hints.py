"""Recipient link clicks are touchpoints (their click row's landing URL), and their identity hint
identifies the visitor."""

from __future__ import annotations

import csv
import io

from tagtrail.store.schema import clicks, events, identity_facts, touchpoints
from tests.collect_server.conftest import Collector

UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"}


def _click(c: Collector, recipient: str) -> str:
    link = c.server.post(
        "/api/links",
        json={
            "url": "https://shop.example/offer",
            "source": "intercom",
            "medium": "email",
            "campaign": "winback",
        },
    ).json()
    url = c.server.post(f"/api/links/{link['code']}/recipient-url", json={"recipient": recipient})
    answer = c.client.get(
        url.json()["url"].replace("https://go.example.com", ""), headers=UA, follow_redirects=False
    )
    assert answer.status_code == 302
    return str(answer.headers["location"])


def _rows(c: Collector) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(c.server.get("/api/journeys").text)))


def test_a_user_recipient_click_and_hint_identify_the_visitor(collector: Collector) -> None:
    c = collector
    landing = _click(c, "u5")
    [click] = c.rows(clicks)
    assert not click.is_bot and click.recipient_id is not None and click.identified
    assert click.url == landing.split("&tt_hint=")[0]  # the landing URL, without the hint
    assert "tt_hint=" in landing and c.rows(touchpoints) == []  # the click row is the touchpoint
    body = {
        "batch": [
            {"type": "page", "anonymousId": "V1", "context": {"page": {"url": landing}}},
            {"type": "track", "anonymousId": "V1", "event": "Viewed Offer"},
        ]
    }
    assert c.send("/v1/batch", body).status_code == 200
    facts = c.rows(identity_facts)
    assert [(f.kind, f.anonymous_id, f.user_id) for f in facts] == [("hint", "V1", "u5")]
    assert all("tt_hint" not in (e.url or "") for e in c.rows(events))
    profile = c.server.get("/api/profiles/u5").json()
    assert profile["anonymous_ids"] == ["V1"]  # identified by the hint alone
    assert profile["initial_channel"] == "Email" and profile["touches"] == 1  # landing = click
    assert [(r["user_id"], r["channel"]) for r in _rows(c)] == [("u5", "Email")]


def test_an_email_recipient_hint_joins_the_click_and_the_visits(collector: Collector) -> None:
    c = collector
    landing = _click(c, "ann@example.com")
    body = {"batch": [{"type": "page", "anonymousId": "V2", "context": {"page": {"url": landing}}}]}
    assert c.send("/v1/batch", body).status_code == 200
    fact = c.rows(identity_facts)[0]
    assert fact.kind == "hint" and fact.user_id is None and fact.recipient
    rows = _rows(c)
    assert [(r["user_id"], r["channel"]) for r in rows] == [("anon:V2", "Email")]


def test_a_forged_hint_identifies_nobody(collector: Collector) -> None:
    c = collector
    landing = _click(c, "u6")
    forged = landing.split("tt_hint=")[0] + "tt_hint=" + "A" * 40
    body = {"anonymousId": "V3", "context": {"page": {"url": forged}}}
    assert c.send("/v1/page", body).status_code == 200
    assert c.rows(identity_facts) == []
    assert c.server.get("/api/profiles/u6").status_code == 200  # the click's recipient is u6
    profile = c.server.get("/api/profiles/u6").json()
    assert profile["anonymous_ids"] == []


def test_a_cookieless_visitor_is_identified_by_the_hint(lite_collector: Collector) -> None:
    c = lite_collector
    landing = _click(c, "u8")
    body = {
        "batch": [{"type": "page", "context": {"page": {"url": landing}}}],
        "cookieless": True,
        "writeKey": c.write_key,
    }
    assert c.client.post("/v1/batch", json=body, headers=UA).status_code == 200
    profile = c.server.get("/api/profiles/u8").json()
    assert len(profile["anonymous_ids"]) == 1 and profile["anonymous_ids"][0].startswith("ck-")


def test_bot_clicks_are_not_touchpoints(lite_collector: Collector) -> None:
    c = lite_collector
    link = c.server.post(
        "/api/links", json={"url": "https://shop.example/x", "source": "news", "medium": "email"}
    ).json()
    answer = c.client.get(
        f"/{link['code']}", headers={"User-Agent": "curl/8.0"}, follow_redirects=False
    )
    assert answer.status_code == 302
    [click] = c.rows(clicks)
    assert click.is_bot and click.url is None
    assert c.rows(touchpoints) == [] and _rows(c) == []
