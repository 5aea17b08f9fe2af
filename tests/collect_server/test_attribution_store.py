"""Attribution on the collected data: GET /api/attribution and `tagtrail attribute` without
--events give the engine's DESIGN §7 document for what the collector stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.collect_server.conftest import Collector
from tests.conftest import CliResult


def _journeys(c: Collector) -> None:
    assert (
        c.server.post(
            "/api/goals", json={"event": "Order Completed", "revenue": "revenue"}
        ).status_code
        == 201
    )
    batch = [
        {
            "type": "page",
            "anonymousId": "a1",
            "timestamp": "2026-11-01T10:00:00Z",
            "context": {
                "page": {
                    "url": "https://shop.example/?utm_source=newsletter"
                    "&utm_medium=email&utm_campaign=spring"
                }
            },
        },
        {
            "type": "page",
            "anonymousId": "a1",
            "timestamp": "2026-11-02T10:00:00Z",
            "context": {
                "page": {"url": "https://shop.example/", "referrer": "https://www.google.com/"}
            },
        },
        {
            "type": "track",
            "anonymousId": "a1",
            "event": "Order Completed",
            "timestamp": "2026-11-02T10:05:00Z",
            "properties": {"revenue": 30},
        },
        {
            "type": "page",
            "anonymousId": "b2",
            "timestamp": "2026-11-03T09:00:00Z",
            "context": {
                "page": {
                    "url": "https://shop.example/?utm_source=facebook"
                    "&utm_medium=cpc&utm_campaign=spring"
                }
            },
        },
        {
            "type": "track",
            "anonymousId": "b2",
            "event": "Order Completed",
            "timestamp": "2026-11-05T09:00:00Z",
            "properties": {"revenue": 10},
        },
    ]
    assert c.send("/v1/batch", {"batch": batch}).status_code == 200


def test_api_attribution_on_collected_journeys(collector: Collector) -> None:
    _journeys(collector)
    answer = collector.server.get("/api/attribution", params={"model": "first_touch,last_touch"})
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["meta"]["total_conversions"] == 2
    assert document["meta"]["total_value"] == 40
    models = document["models"]
    credited = {k: v for k, v in models["first_touch"]["conversions"].items() if v}
    assert credited == {"Email": 1.0, "Paid Social": 1.0}
    assert models["last_touch"]["value"]["Organic Search"] == 30.0
    ranged = collector.server.get("/api/attribution", params={"from": "2026-11-04"}).json()
    assert ranged["meta"]["total_conversions"] == 1
    assert ranged["meta"]["range"] == {"from": "2026-11-04", "to": None, "goal": None}
    unknown = collector.server.get("/api/attribution", params={"goal": "Signed Up"})
    assert unknown.status_code == 422  # was 0 conversions: an unknown goal is an error (#16.15)
    assert "unknown goal 'Signed Up'" in unknown.json()["error"]
    assert "Order Completed" in unknown.json()["errors"][1]
    bad = collector.server.get("/api/attribution", params={"model": "nope"})
    assert bad.status_code == 422 and "unknown model nope" in bad.json()["error"]
    backwards = collector.server.get(
        "/api/attribution", params={"from": "2026-11-05", "to": "2026-11-01"}
    )
    assert backwards.status_code == 422


def test_cli_attribute_without_events_reads_the_store(
    lite_collector: Collector, run_cli: Callable[..., CliResult]
) -> None:
    _journeys(lite_collector)
    settings = lite_collector.server.settings
    result = run_cli(
        "attribute", "--data-dir", str(settings.data_dir), "--model", "linear", "--json"
    )
    assert result.code == 0, result.err
    document: dict[str, Any] = result.json()
    assert document["meta"]["source"] == "store"
    assert sum(document["models"]["linear"]["conversions"].values()) == 2.0
    mixed = run_cli("attribute", "--events", "x.csv", "--from", "2026-11-01", "--json")
    assert mixed.code == 2 and "drop --events" in mixed.json()["error"]
