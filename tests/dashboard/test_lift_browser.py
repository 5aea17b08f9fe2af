"""The campaign lift page in a real browser: both groups' cumulative rates with their interval
band, the credit each model gives beside the incremental conversions, and a campaign without a
holdout told how to set one; a screenshot in test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness.live import LiveServer

from tests.dashboard.test_browser import _no_traceback, _page, _sign_in

SENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)


def _at(days: float) -> str:
    return (SENT + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scenario(server: LiveServer) -> None:
    server.api("POST", "/api/goals", json={"event": "Order Completed", "revenue": "revenue"})
    server.api("POST", "/api/campaigns", json={"name": "spring", "holdout": "20%"})
    sends = [
        {"recipient": f"u{i}", "campaign": "spring", "sent_at": _at(0), "held_out": i % 5 == 0}
        for i in range(40)
    ]
    sends.append({"recipient": "v1", "campaign": "autumn", "sent_at": _at(0)})
    server.api("POST", "/api/sends", json=sends)
    page = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    batch: list[dict[str, Any]] = []
    for i in (1, 2, 3, 4, 6, 7, 8, 9, 11, 5):  # nine treated converters, one held out (u5)
        if i != 5:  # the held-out recipient never saw the campaign
            touch = {"type": "page", "userId": f"u{i}", "timestamp": _at(i / 4)}
            batch.append({**touch, "context": {"page": {"url": page}}})
        batch.append(
            {
                "type": "track",
                "userId": f"u{i}",
                "event": "Order Completed",
                "timestamp": _at(i / 4 + 0.1),
                "properties": {"revenue": 10},
            }
        )
    answer = httpx.post(
        server.origin + "/v1/batch", json={"batch": batch}, auth=(server.key, ""), timeout=30
    )
    assert answer.status_code == 200, answer.text


def test_the_campaign_lift_page(browser: Any, server: LiveServer, artifacts: Path) -> None:
    _scenario(server)
    page = _page(browser)
    _sign_in(page, server)
    page.goto(server.origin + "/ui/campaigns?campaign=spring")
    page.click("#lift-link")
    page.wait_for_url("**/ui/campaigns/spring/lift")
    _no_traceback(page)
    summary = page.text_content("#lift-summary") or ""
    assert "attributed 9 conversions (last_touch); incremental" in summary, summary
    assert page.text_content("#lift-treated") == "9 / 32"
    assert page.text_content("#lift-held-out") == "1 / 8"
    chart = page.locator("figure.chart svg[role=img]")
    assert chart.count() == 1
    assert page.locator("figure.chart polygon.band").count() == 2  # both groups' intervals
    assert page.locator("figure.chart polyline").count() == 2
    rows = page.locator("#lift-attributed tbody tr")
    assert rows.count() == 17  # the incremental row and the 16 models
    assert "incremental (holdout)" in (rows.first.text_content() or "")
    page.screenshot(path=str(artifacts / "lift.png"), full_page=True)

    page.select_option("select[name=goal]", "Order Completed")
    page.fill("input[name=window_days]", "1")
    page.click("form.window button[type=submit]")
    page.wait_for_url("**window_days=1**")
    # Within a day of the send only u1, u2 and u3 converted (u4 after 1.1 days, u5 after 1.35).
    assert page.text_content("#lift-treated") == "3 / 32"
    assert page.text_content("#lift-held-out") == "0 / 8"

    page.goto(server.origin + "/ui/campaigns/autumn/lift")
    error = page.text_content("#lift-error") or ""
    assert "lift needs a holdout" in error and "holdout" in error
    _no_traceback(page)
