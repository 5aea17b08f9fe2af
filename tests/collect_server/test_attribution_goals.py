"""Attribution on collected data, per goal: a `Signed Up` in the same second as an `Order
Completed` no longer takes the order's email click; `--by content` works; no answer is a 500
and no error shows a server path."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from harness.live import start_server
from sqlalchemy import Engine

from tagtrail.service import views
from tagtrail.service.reports import Window
from tagtrail.store.database import open_store
from tests.collect_server.conftest import Collector
from tests.conftest import CliResult

T = "2026-11-02T10:00:00Z"
SAME_SECOND = "2026-11-02T10:05:00Z"


Post = Callable[..., Any]


def _order_after_signup(c: Collector) -> dict[str, Any]:
    return _scenario(c.server.post, lambda body: c.send("/v1/batch", body))


def _scenario(admin_post: Post, send_batch: Callable[[Any], Any]) -> dict[str, Any]:
    """Goals Signed Up (no revenue) and Order Completed (revenue); a link's email landing, then
    both goal events in one second (the sign-up first by message id, as collectors send)."""
    for goal in ({"event": "Signed Up"}, {"event": "Order Completed", "revenue": "revenue"}):
        assert admin_post("/api/goals", json=goal).status_code == 201
    made = admin_post(
        "/api/links",
        json={
            "url": "https://shop.example/welcome",
            "source": "newsletter",
            "medium": "email",
            "campaign": "onboarding",
            "content": "hero",
        },
    )
    assert made.status_code == 201, made.text
    link = made.json()
    batch = [
        {
            "type": "page",
            "anonymousId": "a1",
            "messageId": "m0-landing",
            "timestamp": T,
            "context": {"page": {"url": link["tracked_url"]}},
        },
        {
            "type": "track",
            "anonymousId": "a1",
            "messageId": "m1-signup",
            "event": "Signed Up",
            "timestamp": SAME_SECOND,
        },
        {
            "type": "track",
            "anonymousId": "a1",
            "messageId": "m2-order",
            "event": "Order Completed",
            "timestamp": SAME_SECOND,
            "properties": {"revenue": 49.90},
        },
    ]
    assert send_batch({"batch": batch}).status_code == 200
    return dict(link)


def _local(c: Collector, run_cli: Callable[..., CliResult], *args: str) -> CliResult:
    """`tagtrail attribute ARGS` on the collector's local store, after the scenario."""
    _order_after_signup(c)
    return run_cli("attribute", "--data-dir", str(c.server.settings.data_dir), *args)


def _email_value(document: dict[str, Any], model: str = "last_touch") -> float:
    return float(document["models"][model]["value"].get("Email", 0.0))


def test_each_goal_forms_its_own_paths_on_the_api(collector: Collector) -> None:
    _order_after_signup(collector)
    answer = collector.server.get("/api/attribution")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["meta"]["goal"] == "Order Completed"  # the goal with revenue, by default
    assert doc["meta"]["goals"] == ["Signed Up", "Order Completed"]
    assert doc["meta"]["total_conversions"] == 1 and doc["meta"]["total_value"] == 49.9
    for model in ("last_touch", "first_touch", "linear", "last_non_direct"):
        assert _email_value(doc, model) == 49.9, model
    signups = collector.server.get("/api/attribution", params={"goal": "Signed Up"}).json()
    assert signups["meta"]["goal"] == "Signed Up"
    assert signups["models"]["last_touch"]["conversions"]["Email"] == 1.0  # its own path too


def test_each_goal_forms_its_own_paths_on_the_cli(
    lite_collector: Collector, run_cli: Callable[..., CliResult]
) -> None:
    result = _local(lite_collector, run_cli, "--model", "last_touch", "--json")
    assert result.code == 0, result.err
    assert _email_value(result.json()) == 49.9
    data_dir = str(lite_collector.server.settings.data_dir)
    goal = run_cli(
        "attribute", "--data-dir", data_dir, "--goal", "Order Completed", "--model", "last_touch"
    )
    assert goal.code == 0, goal.err
    assert re.search(r"Email\s*│\s*49\.90", goal.out), goal.out


def test_the_dashboard_pages_agree_on_the_order(lite_collector: Collector) -> None:
    link = _order_after_signup(lite_collector)
    settings = lite_collector.server.settings
    engine: Engine = open_store(settings.store_url)
    try:
        page = views.attribution(engine, 1, settings, Window(), wait=None)
        tables = views.campaigns(engine, 1, settings, Window(), wait=None)
        signups = views.attribution(engine, 1, settings, Window(goal="Signed Up"), wait=None)
    finally:
        engine.dispose()
    assert page["goal"] == "Order Completed"
    assert page["goal_names"] == ["Signed Up", "Order Completed"]
    assert _email_value(page["document"]) == 49.9
    row = next(r for r in tables["links"] if r["code"] == link["code"])
    assert row["revenue"] == 49.9  # the links table credits the same email link
    assert signups["document"]["meta"]["total_value"] == 0.0
    assert signups["document"]["models"]["last_touch"]["conversions"]["Email"] == 1.0


def test_the_channels_table_spells_direct_once(lite_collector: Collector) -> None:
    _order_after_signup(lite_collector)
    direct_only = [
        {
            "type": "page",
            "anonymousId": "b2",
            "timestamp": T,
            "context": {"page": {"url": "https://shop.example/"}},
        },
        {
            "type": "track",
            "anonymousId": "b2",
            "event": "Order Completed",
            "timestamp": SAME_SECOND,
            "properties": {"revenue": 5},
        },
    ]
    assert lite_collector.send("/v1/batch", {"batch": direct_only}).status_code == 200
    settings = lite_collector.server.settings
    engine: Engine = open_store(settings.store_url)
    try:
        table = views.channels(engine, 1, settings, Window(), wait=None)["channels"]
    finally:
        engine.dispose()
    assert "direct" not in table
    assert table["Direct"]["arrivals"] == 1 and table["Direct"]["revenue"] == 5.0


def test_the_attribution_page_has_a_goal_selector(lite_collector: Collector) -> None:
    _order_after_signup(lite_collector)
    client = lite_collector.client
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    signed = client.post(
        "/login",
        data={"csrf": token.group(1), "key": lite_collector.server.admin_key, "next": "/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    html = ""
    for _ in range(200):  # the journeys snapshot is computed in a helper process
        html = client.get("/ui/attribution").text
        if 'id="attribution-summary"' in html:
            break
    assert '<select name="goal">' in html
    assert "<option selected>Order Completed</option>" in html
    assert 'id="attribution-goal">Order Completed<' in html
    other = ""
    for _ in range(200):  # another goal's figures: computed on their first request
        other = client.get("/ui/attribution", params={"goal": "Signed Up"}).text
        if 'id="attribution-summary"' in other:
            break
    assert "<option selected>Signed Up</option>" in other


def test_by_content_on_collected_data(
    collector: Collector, run_cli: Callable[..., CliResult]
) -> None:
    _order_after_signup(collector)
    answer = collector.server.get("/api/attribution", params={"by": "content", "model": "linear"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["models"]["linear"]["value"]["hero"] == 49.9
    if collector.server.settings.database_url is None:
        data_dir = str(collector.server.settings.data_dir)
        result = run_cli("attribute", "--data-dir", data_dir, "--by", "content", "--json")
        assert result.code == 0, result.err
        assert result.json()["models"]["last_touch"]["value"]["hero"] == 49.9


def test_cli_through_the_api_per_goal_and_by_content(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    with start_server(data_dir=tmp_path / "data") as live:
        made = run_cli(
            "keys", "create", "--kind", "write", "--name", "site", "--json",
            "--data-dir", str(live.data_dir),
        )  # fmt: skip
        assert made.code == 0, made.err
        write = (str(made.json()["key"]), "")
        admin = {"Authorization": f"Bearer {live.key}"}

        def admin_post(path: str, **kwargs: Any) -> Any:
            return httpx.post(live.origin + path, headers=admin, **kwargs)

        _scenario(
            admin_post, lambda body: httpx.post(f"{live.origin}/v1/batch", json=body, auth=write)
        )
        remote = ["--api", live.origin, "--key", live.key, "--json"]
        last = run_cli("attribute", "--model", "last_touch", *remote)
        assert last.code == 0, last.out + last.err
        assert _email_value(last.json()) == 49.9
        content = run_cli("attribute", "--by", "content", "--model", "linear", *remote)
        assert content.code == 0, content.out + content.err
        assert content.json()["models"]["linear"]["value"]["hero"] == 49.9
        unknown = run_cli("attribute", "--goal", "Purchase", *remote)
        assert unknown.code == 1 and "known goals: Signed Up, Order Completed" in unknown.out


def test_no_conversion_in_range_is_a_valid_answer(collector: Collector) -> None:
    _order_after_signup(collector)
    answer = collector.server.get("/api/attribution", params={"to": "2000-01-01"})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["meta"]["total_conversions"] == 0 and doc["meta"]["n_paths"] == 0
    assert all(not any(m["conversions"].values()) for m in doc["models"].values())


def test_a_workspace_without_goals_is_a_valid_answer(collector: Collector) -> None:
    answer = collector.server.get("/api/attribution")
    assert answer.status_code == 200, answer.text
    assert answer.json()["meta"]["total_conversions"] == 0
    assert answer.json()["meta"]["goal"] is None


def test_an_unknown_goal_names_the_known_ones(
    lite_collector: Collector, run_cli: Callable[..., CliResult]
) -> None:
    result = _local(lite_collector, run_cli, "--goal", "Purchase", "--json")
    assert result.code == 1
    error = result.json()
    assert error["error"] == "unknown goal 'Purchase'"
    assert error["errors"][1] == "known goals: Signed Up, Order Completed"


def _no_path(text: str) -> None:
    assert "/tmp" not in text and "tagtrail-attribution-" not in text, text
    assert "journeys.csv" not in text, text


def test_no_attribution_error_shows_a_server_path(collector: Collector) -> None:
    _order_after_signup(collector)
    for params in (
        {"by": "nope"},
        {"model": "nope"},
        {"goal": "Purchase"},
        {"from": "2026-11-05", "to": "2026-11-01"},
        {"to": "yesterday"},
        {"lookback_days": "0"},
    ):
        answer = collector.server.get("/api/attribution", params=params)
        assert answer.status_code == 422, (params, answer.text)
        _no_path(answer.text)


def test_engine_errors_on_collected_data_name_no_path(tmp_path: Any) -> None:
    from tagtrail.attribution import duckdb_engine
    from tagtrail.errors import InvalidInput
    from tagtrail.service.attribution import SOURCE_NAME

    path = tmp_path / "journeys.csv"
    path.write_text("user_id,timestamp\n", encoding="utf-8")
    for by in ("channel", "content"):
        try:
            duckdb_engine.load(path, by=by, name=SOURCE_NAME)
        except InvalidInput as exc:
            assert exc.message.startswith(SOURCE_NAME + ": missing column(s)")
            _no_path(str(exc))
        else:
            raise AssertionError("a file without the columns loaded")
