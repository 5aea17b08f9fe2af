"""Lift on the store (DESIGN §10): sends with held_out, holdout settings, recipients matched to
collected users by user id and by the keyed hash of an identify call's email, GET
/api/campaigns/{name}/lift — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tagtrail.lift.statistics import Group, compute_lift
from tests.collect_server.conftest import Collector

SENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


def _at(days: float) -> str:
    return (SENT + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


TREATED = ["u1", "u2", "u4", "ana@example.com", "nobody@example.com"]
HELD_OUT = ["u3", "u5", "bob@example.com"]


def _scenario(c: Collector, *, holdout: str = "40%") -> None:
    server = c.server
    goal = {"event": "Order Completed", "revenue": "revenue"}
    assert server.post("/api/goals", json=goal).status_code == 201
    made = server.post("/api/campaigns", json={"name": "spring", "holdout": holdout})
    assert made.status_code == 201, made.text
    sends = [{"recipient": r, "campaign": "spring", "sent_at": _at(0)} for r in TREATED]
    sends += [
        {"recipient": r, "campaign": "spring", "sent_at": _at(0), "held_out": True}
        for r in HELD_OUT
    ]
    assert server.post("/api/sends", json=sends).json() == {"stored": 8}
    spring = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"

    def order(user: str, days: float, revenue: float) -> dict[str, Any]:
        return {
            "type": "track",
            "userId": user,
            "event": "Order Completed",
            "timestamp": _at(days),
            "properties": {"revenue": revenue},
        }

    batch = [
        {"type": "page", "userId": "u1", "timestamp": _at(1), "context": {"page": {"url": spring}}},
        order("u1", 2, 20),
        order("u2", 9, 99),  # after the 7-day window
        order("u3", 3, 10),
        {
            "type": "identify",
            "userId": "shopper-a",
            "timestamp": _at(0.5),
            "traits": {"email": " Ana@Example.com "},
        },
        order("shopper-a", 4, 30),
        {
            "type": "identify",
            "userId": "shopper-b",
            "timestamp": _at(0.5),
            "traits": {"email": "bob@example.com"},
        },
        order("stranger", 1, 50),
    ]
    answer = c.send("/v1/batch", {"batch": batch})
    assert answer.status_code == 200, answer.text


def test_lift_on_the_store_matches_recipients_by_user_id_and_email_trait(
    collector: Collector,
) -> None:
    _scenario(collector)
    answer = collector.server.get("/api/campaigns/spring/lift", params={"goal": "Order Completed"})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    # Treated: u1 (in the window) and ana (by her email's keyed hash) converted; u2 too late.
    assert doc["treatment"] == {"recipients": 5, "converters": 2, "rate": 0.4, "value": 50.0}
    assert doc["control"] == {
        "recipients": 3, "converters": 1, "rate": 1 / 3, "value": 10.0
    }  # fmt: skip
    expected = compute_lift(
        Group(5, 2, 50.0, 20.0**2 + 30.0**2),
        Group(3, 1, 10.0, 10.0**2),
        expected_control_share=0.4,
    ).as_dict()
    assert doc["lift"] == expected["lift"] and doc["srm"] == expected["srm"]
    assert doc["incremental"] == expected["incremental"]
    # u4, u5 and nobody@ never appear in the collected events.
    assert doc["matching"]["recipients"] == 8 and doc["matching"]["unmatched"] == 3
    assert any("3 of 8 recipients could not be matched" in w for w in doc["warnings"])
    # u1's conversion followed a click of the campaign; ana's had no touch.
    assert doc["attributed"]["last_touch"] == 1.0
    assert doc["goal"] == "Order Completed" and doc["window_days"] == 7.0


def test_lift_refuses_an_unknown_goal_a_missing_holdout_and_an_unknown_campaign(
    collector: Collector,
) -> None:
    _scenario(collector)
    server = collector.server
    answer = server.get("/api/campaigns/spring/lift", params={"goal": "Signed Up"})
    assert answer.status_code == 422 and "no goal named 'Signed Up'" in answer.text
    assert server.get("/api/campaigns/nope/lift", params={"goal": "x"}).status_code == 404
    sends = [{"recipient": "u9", "campaign": "autumn", "sent_at": _at(0)}]
    assert server.post("/api/sends", json=sends).status_code == 200
    answer = server.get("/api/campaigns/autumn/lift", params={"goal": "Order Completed"})
    assert answer.status_code == 422 and "lift needs a holdout" in answer.text
    assert "holdout" in answer.json()["errors"][-1]


def test_held_out_must_be_a_boolean(collector: Collector) -> None:
    server = collector.server
    bad = [{"recipient": "u1", "sent_at": _at(0), "held_out": "yes"}]
    answer = server.post("/api/sends", json=bad)
    assert answer.status_code == 422
    assert any(e.startswith("0.held_out") for e in answer.json()["errors"]), answer.text
    text = (
        "recipient,campaign,sent_at,held_out\n"
        "u1,spring,2024-03-01T09:00:00Z,true\n"
        "u2,spring,2024-03-01T09:00:00Z,maybe\n"
    )
    answer = server.post("/api/sends/import", content=text, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422
    assert "line 3: held_out 'maybe' is not a boolean" in answer.json()["errors"], answer.text


def test_campaign_holdout_and_workspace_global_holdout_settings(collector: Collector) -> None:
    server = collector.server
    assert server.post("/api/campaigns", json={"name": "spring"}).json()["holdout"] == "0%"
    changed = server.patch("/api/campaigns/spring", json={"holdout": "12.5%"})
    assert changed.status_code == 200 and changed.json()["holdout"] == "12.5%"
    assert server.get("/api/campaigns/spring").json()["holdout"] == "12.5%"
    assert server.patch("/api/campaigns/spring", json={"holdout": "abc"}).status_code == 422
    assert server.patch("/api/campaigns/spring", json={"holdout": True}).status_code == 422
    space = server.patch("/api/workspace", json={"global_holdout": 5})
    assert space.status_code == 200 and space.json()["global_holdout"] == "5%"
    assert server.patch("/api/workspace", json={"global_holdout": "100%"}).status_code == 422


def test_a_phone_recipient_is_matched_by_the_keyed_hash_of_the_phone_trait(
    collector: Collector,
) -> None:
    server = collector.server
    assert server.post("/api/goals", json={"event": "Signed Up"}).status_code == 201
    sends = [
        {"recipient": "+34600111222", "campaign": "sms", "sent_at": _at(0)},
        {"recipient": "u7", "campaign": "sms", "sent_at": _at(0), "held_out": True},
    ]
    assert server.post("/api/sends", json=sends).json() == {"stored": 2}
    batch = [
        {"type": "identify", "userId": "p1", "timestamp": _at(0.1),
         "traits": {"phone": "+34600111222"}},
        {"type": "track", "userId": "p1", "event": "Signed Up", "timestamp": _at(1)},
    ]  # fmt: skip
    assert collector.send("/v1/batch", {"batch": batch}).status_code == 200
    doc = server.get("/api/campaigns/sms/lift", params={"goal": "Signed Up"}).json()
    assert doc["treatment"]["converters"] == 1 and doc["control"]["converters"] == 0
    by = ["user_id", "email trait", "phone trait"]
    assert doc["matching"] == {"recipients": 2, "matched": 1, "unmatched": 1, "by": by}
