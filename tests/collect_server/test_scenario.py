"""Issue 5's identity scenario, end to end through the real redirect and /v1 (in-process):
a recipient clicks an Intercom-style link (anonymous), leaves, comes back two days later from
Google, signs up on another device with the same user id."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.collect_server.conftest import Collector
from tests.conftest import CliResult


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _scenario(c: Collector) -> datetime:
    server = c.server
    assert server.post("/api/goals", json={"event": "Signed Up"}).status_code == 201
    link = server.post(
        "/api/links",
        json={
            "url": "https://shop.example/welcome",
            "source": "intercom",
            "medium": "email",
            "campaign": "onboarding",
        },
    ).json()
    url = server.post(f"/api/links/{link['code']}/recipient-url", json={"recipient": "u1"})
    click = c.client.get(
        url.json()["url"].replace("https://go.example.com", ""),
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"},
        follow_redirects=False,
    )
    assert click.status_code == 302
    landing = click.headers["location"]
    assert "tt_hint=" in landing and "utm_source=intercom" in landing
    t0 = datetime.now(UTC)
    device1 = [
        {
            "type": "page",
            "anonymousId": "A1",
            "timestamp": _iso(t0 + timedelta(seconds=2)),
            "messageId": "p1",
            "context": {"page": {"url": landing}},
        },
        {
            "type": "page",
            "anonymousId": "A1",
            "timestamp": _iso(t0 + timedelta(days=2)),
            "messageId": "p2",
            "context": {
                "page": {
                    "url": "https://shop.example/pricing",
                    "referrer": "https://www.google.com/",
                }
            },
        },
    ]
    later = t0 + timedelta(days=2, minutes=40)
    device2 = [
        {
            "type": "page",
            "anonymousId": "A2",
            "timestamp": _iso(later),
            "messageId": "p3",
            "context": {"page": {"url": "https://shop.example/signup"}},
        },
        {
            "type": "identify",
            "anonymousId": "A2",
            "userId": "u1",
            "timestamp": _iso(later + timedelta(minutes=2)),
            "messageId": "i1",
        },
        {
            "type": "track",
            "anonymousId": "A2",
            "userId": "u1",
            "event": "Signed Up",
            "timestamp": _iso(later + timedelta(minutes=2)),
            "messageId": "t1",
        },
    ]
    # device 2 first: arrival order must not matter
    for body in ({"batch": device2}, {"batch": device1}):
        answer = c.send("/v1/batch", body)
        assert answer.status_code == 200, answer.text
    return t0


def _check_profile(profile: dict[str, Any]) -> None:
    assert profile["identity"] == "u1"
    assert profile["initial_channel"] == "Email"
    assert (profile["initial_utm_source"], profile["initial_utm_medium"]) == ("intercom", "email")
    assert profile["initial_utm_campaign"] == "onboarding"
    assert profile["last_channel"] == "Organic Search"
    assert (profile["last_utm_source"], profile["last_utm_medium"]) == ("google", "organic")
    assert profile["touches"] == 3
    assert profile["anonymous_ids"] == ["A1", "A2"]
    assert profile["conversions"] == 1


def _check_journey(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    mine = [r for r in rows if r["user_id"] == "u1"]
    assert [(r["type"], r["channel"], r["source"], r["medium"]) for r in mine] == [
        ("touch", "Email", "intercom", "email"),
        ("touch", "Organic Search", "google", "organic"),
        ("touch", "direct", "(direct)", "(none)"),
        (
            "conversion",
            "",
            "",
            "",
        ),
    ]
    assert mine[0]["campaign"] == "onboarding"
    assert mine[-1]["value"] == "0.00"
    assert len(rows) == len(mine)  # every touch was stitched to the user


def test_the_identity_scenario(collector: Collector) -> None:
    _scenario(collector)
    answer = collector.server.get("/api/profiles/u1")
    assert answer.status_code == 200, answer.text
    _check_profile(answer.json())
    journeys = collector.server.get("/api/journeys")
    assert journeys.headers["content-type"].startswith("text/csv")
    _check_journey(journeys.text)
    assert collector.server.get("/api/profiles/nobody").status_code == 404


def test_the_scenario_through_the_cli(
    collector: Collector, run_cli: Callable[..., CliResult], tmp_path: Any
) -> None:
    _scenario(collector)
    settings = collector.server.settings
    where = (
        ["--database-url", settings.database_url]
        if settings.database_url
        else ["--data-dir", str(settings.data_dir)]
    )
    result = run_cli("profile", "u1", "--json", *where)
    assert result.code == 0, result.err
    _check_profile(result.json())
    out = tmp_path / "journeys.csv"
    result = run_cli("export", "--journeys", str(out), "--json", *where)
    assert result.code == 0, result.out + result.err
    _check_journey(out.read_text())
    parquet = tmp_path / "journeys.parquet"
    result = run_cli("export", "--journeys", str(parquet), *where)
    assert result.code == 0, result.err
    attributed = run_cli("attribute", "--events", str(parquet), "--model", "first_touch", "--json")
    assert attributed.code == 0, attributed.out + attributed.err
    credit = attributed.json()["models"]["first_touch"]["conversions"]
    assert credit["Email"] == 1.0 and sum(credit.values()) == 1.0
    missing = run_cli("profile", "nobody", "--json", *where)
    assert missing.code == 1 and missing.json()["ok"] is False
