"""`tagtrail campaigns list|show|stats` on a local store (SQLite and PostgreSQL) and on a real
running server: the documents of `/api/campaigns`, from the same service functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.cli.conftest import CHROME, Server

Run = Callable[..., Any]
STATS_KEYS = ["campaign", "total", "human", "bot", "unique", "recipients", "by_day"]


def _link(run_cli: Run, backend: list[str], campaign: str, code: str) -> dict[str, Any]:
    made = run_cli(
        "links", "create", "--url", f"https://example.com/{code}", "--preset", "intercom",
        "--campaign", campaign, "--code", code, *backend, "--json",
    )  # fmt: skip
    assert made.code == 0, made.out + made.err
    return dict(made.json())


def test_list_show_and_stats_on_a_local_store(run_cli: Run, store: list[str]) -> None:
    _link(run_cli, store, "Spring Sale", "sp1")
    _link(run_cli, store, "Spring Sale", "sp2")
    _link(run_cli, store, "autumn", "au1")
    listed = run_cli("campaigns", "list", *store, "--json")
    assert listed.code == 0, listed.err
    body = listed.json()
    assert body["count"] == 2
    assert [(c["name"], c["links"]) for c in body["data"]] == [("Spring Sale", 2), ("autumn", 1)]
    assert list(body["data"][0]) == ["name", "default_utm", "holdout", "links", "created_at"]
    shown = run_cli("campaigns", "show", "Spring Sale", *store, "--json").json()
    assert shown["name"] == "Spring Sale" and shown["links"] == 2
    figures = run_cli("campaigns", "stats", "Spring Sale", *store, "--json").json()
    assert list(figures) == STATS_KEYS and figures["total"] == 0
    text = run_cli("campaigns", "list", *store)
    assert "Spring Sale" in text.out and "2 campaign(s)" in text.out
    assert "No clicks yet." in run_cli("campaigns", "stats", "autumn", *store).out
    missing = run_cli("campaigns", "stats", "nope", *store, "--json")
    assert missing.code == 1 and missing.json()["error"] == "no campaign named 'nope'"


def test_stats_on_a_running_server_count_every_link(run_cli: Run, server: Server) -> None:
    links = [_link(run_cli, server.api, "Launch Week", code) for code in ("lw1", "lw2")]
    with httpx.Client(headers={"User-Agent": CHROME}) as client:
        for link in links:
            assert client.get(link["short_url"]).status_code == 302
        assert client.head(links[0]["short_url"]).status_code == 302  # a HEAD counts as a bot
    figures = run_cli("campaigns", "stats", "Launch Week", *server.api, "--json")
    assert figures.code == 0, figures.err
    body = figures.json()
    assert (body["campaign"], body["total"], body["human"], body["bot"]) == ("Launch Week", 3, 2, 1)
    listed = run_cli("campaigns", "list", *server.api, "--json").json()
    assert {"name": "Launch Week", "links": 2}.items() <= next(
        c for c in listed["data"] if c["name"] == "Launch Week"
    ).items()
    shown = run_cli("campaigns", "show", "Launch Week", *server.api)
    assert shown.code == 0 and "Launch Week" in shown.out
    text = run_cli("campaigns", "stats", "Launch Week", *server.api)
    assert "total 3 · human 2 · bot 1" in text.out


def test_create_and_update_set_a_campaigns_holdout(run_cli: Run, store: list[str]) -> None:
    made = run_cli("campaigns", "create", "Spring Sale", "--holdout", "10%", *store, "--json")
    assert made.code == 0, made.out + made.err
    assert made.json()["holdout"] == "10%" and made.json()["name"] == "Spring Sale"
    plain = run_cli("campaigns", "create", "autumn", *store, "--json")
    assert plain.code == 0 and plain.json()["holdout"] == "0%"
    changed = run_cli("campaigns", "update", "Spring Sale", "--holdout", "12.5", *store, "--json")
    assert changed.code == 0 and changed.json()["holdout"] == "12.5%"
    assert (
        run_cli("campaigns", "show", "Spring Sale", *store, "--json").json()["holdout"] == "12.5%"
    )
    text = run_cli("campaigns", "update", "Spring Sale", "--holdout", "0", *store)
    assert text.code == 0 and "holdout" in text.out and "0%" in text.out
    again = run_cli("campaigns", "create", "Spring Sale", *store, "--json")
    assert again.code == 1 and "exists" in again.json()["error"]
    missing = run_cli("campaigns", "update", "nope", "--holdout", "5%", *store, "--json")
    assert missing.code == 1 and missing.json()["error"] == "no campaign named 'nope'"


def test_a_holdout_out_of_range_or_not_a_number_is_a_usage_error(
    run_cli: Run, store: list[str]
) -> None:
    assert run_cli("campaigns", "create", "spring", *store).code == 0
    for value, says in (("100%", "out of range"), ("-1", "out of range"), ("ten", "not a")):
        for args in (
            ("campaigns", "update", "spring", "--holdout", value),
            ("campaigns", "create", "other", "--holdout", value),
            ("workspace", "--global-holdout", value),
        ):
            bad = run_cli(*args, *store, "--json")
            assert bad.code == 2, (args, bad.out)
            error = bad.json()["error"]
            assert says in error and "such as 10%" in error, error
    assert run_cli("campaigns", "show", "spring", *store, "--json").json()["holdout"] == "0%"
    assert run_cli("campaigns", "show", "other", *store).code == 1  # nothing was made
    text = run_cli("campaigns", "update", "spring", "--holdout", "1e9", *store)
    assert text.code == 2 and "--holdout" in text.err and "out of range" in text.err
    assert run_cli("campaigns", "update", "spring", *store).code == 2  # --holdout is required


def test_workspace_shows_and_sets_the_global_holdout(run_cli: Run, store: list[str]) -> None:
    empty = run_cli("workspace", *store, "--json")
    assert empty.code == 1 and "no workspace yet" in empty.json()["error"]
    changed = run_cli("workspace", "--global-holdout", "5%", *store, "--json")
    assert changed.code == 0, changed.out + changed.err
    assert changed.json()["global_holdout"] == "5%"
    shown = run_cli("workspace", *store, "--json").json()
    assert list(shown) == [
        "name", "default_utm", "identify", "excluded_domains", "global_holdout", "created_at"
    ]  # fmt: skip
    assert shown["global_holdout"] == "5%"
    text = run_cli("workspace", *store)
    assert text.code == 0 and "global holdout" in text.out and "5%" in text.out


def test_holdouts_set_on_a_running_server_are_what_its_lift_expects(
    run_cli: Run, server: Server
) -> None:
    made = run_cli("campaigns", "create", "Held Week", "--holdout", "10%", *server.api, "--json")
    assert made.code == 0, made.out + made.err
    changed = run_cli("campaigns", "update", "Held Week", "--holdout", "20", *server.api)
    assert changed.code == 0 and "20%" in changed.out
    space = run_cli("workspace", "--global-holdout", "5", *server.api, "--json")
    assert space.code == 0 and space.json()["global_holdout"] == "5%"
    assert run_cli("workspace", *server.api, "--json").json()["global_holdout"] == "5%"
    bad = run_cli("workspace", "--global-holdout", "100", *server.api, "--json")
    assert bad.code == 2 and "out of range" in bad.json()["error"]
    auth = {"Authorization": f"Bearer {server.key}"}
    with httpx.Client(base_url=server.url, headers=auth) as client:
        sends = [
            {"recipient": f"hw{i}", "campaign": "Held Week", "sent_at": "2024-03-01T09:00:00Z",
             "held_out": i < 3}
            for i in range(10)
        ]  # fmt: skip
        assert client.post("/api/sends", json=sends).status_code == 200
        assert client.post("/api/goals", json={"event": "Held Goal"}).status_code == 201
    lift = run_cli("lift", "--campaign", "Held Week", "--goal", "Held Goal", *server.api, "--json")
    assert lift.code == 0, lift.out + lift.err
    # The global group and the campaign's hash independently: 1 - (1 - 5 %)(1 - 20 %).
    srm = lift.json()["srm"]
    assert abs(srm["expected_control_share"] - (1 - 0.95 * 0.8)) < 1e-12
    assert srm["observed_control_share"] == 0.3
