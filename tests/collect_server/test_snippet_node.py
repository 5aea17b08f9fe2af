"""/t.js run by node against a fake page (the real browser is issue 7's): what it sends is
accepted by /v1/batch as sent, the hint identifies the visitor, cookieless stores nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.collect_server.conftest import Collector

HARNESS = Path(__file__).with_name("snippet_harness.js")
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"}


def _run(c: Collector, tmp_path: Path, page: str, *mode: str) -> dict[str, Any]:
    script = tmp_path / "t.js"
    script.write_bytes(c.client.get("/t.js").content)
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HARNESS), str(script), page, *mode], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    for sent in result["bodies"]:
        assert sent["to"] == "http://127.0.0.1:9999/v1/batch"
        assert sent["type"] == "text/plain"
        body = json.dumps({**sent["body"], "writeKey": c.write_key})
        answer = c.client.post(
            "/v1/batch", content=body, headers={"Content-Type": "text/plain", **UA}
        )
        assert answer.status_code == 200, answer.text
    return result


def test_the_snippet_identifies_a_recipient_click(
    lite_collector: Collector, tmp_path: Path
) -> None:
    c = lite_collector
    link = c.server.post(
        "/api/links",
        json={
            "url": "https://shop.example/welcome?x=1",
            "source": "intercom",
            "medium": "email",
            "campaign": "onboarding",
        },
    ).json()
    url = c.server.post(f"/api/links/{link['code']}/recipient-url", json={"recipient": "u-node"})
    landing = c.client.get(
        url.json()["url"].replace("https://go.example.com", ""), headers=UA, follow_redirects=False
    ).headers["location"]
    result = _run(c, tmp_path, landing + "#top")
    batch = result["bodies"][0]["body"]["batch"]
    assert [e["type"] for e in batch] == ["page", "track", "identify"]
    assert "tt_hint=" in batch[0]["context"]["page"]["url"]
    assert "tt_hint" not in batch[1]["context"]["page"]["url"]  # hidden after the page view
    assert result["replaced"] == [
        "/welcome?x=1&utm_source=intercom&utm_medium=email&utm_campaign=onboarding#top"
    ]
    cookie = result["cookies"][0]
    assert (
        cookie.startswith("tt_aid=") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
    )
    aid = cookie.split(";")[0].removeprefix("tt_aid=")
    assert all(e["anonymousId"] == aid for e in batch)
    profile = c.server.get("/api/profiles/u-node").json()
    assert profile["anonymous_ids"] == [aid]
    assert profile["initial_channel"] == "Email"
    stored = c.rows()
    assert all("tt_hint" not in json.dumps([r.url, r.properties]) for r in stored)


def test_cookieless_mode_stores_nothing_on_the_device(
    lite_collector: Collector, tmp_path: Path
) -> None:
    c = lite_collector
    result = _run(
        c, tmp_path, "https://shop.example/?utm_source=news&utm_medium=email", "cookieless"
    )
    assert result["cookies"] == []
    body = result["bodies"][0]["body"]
    assert body["cookieless"] is True
    assert all("anonymousId" not in e for e in body["batch"])
    ids = {r.anonymous_id for r in c.rows()}
    assert len(ids) == 1 and next(iter(ids)).startswith("ck-")
