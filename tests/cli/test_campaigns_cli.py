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
