"""`tagtrail mcp --api URL --key KEY`: the store tools on a running `tagtrail serve`, the same
answers as the CLI's `--api` mode; and the command's own usage errors and shutdown."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from harness.live import LiveServer, start_server, stop_process

from tests.mcp_server.conftest import Session, open_session, start_http


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(data_dir=tmp_path_factory.mktemp("serve") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def remote(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("mcp-remote")
    with ExitStack() as stack:
        yield open_session(stack, "stdio", ["--api", live.origin, "--key", live.key], root)


def test_store_tools_on_a_running_server_answer_as_the_cli(
    remote: Session, live: LiveServer, run_cli: Callable[..., Any]
) -> None:
    api = ["--api", live.origin, "--key", live.key]
    made = remote.call(
        "create_short_link",
        {"url": "https://shop.example/a", "code": "remote-a", "campaign": "launch",
         "source": "newsletter", "medium": "email"},
    )  # fmt: skip
    assert not made.error, made.doc
    assert made.doc == run_cli("links", "show", "remote-a", *api, "--json").json()
    assert made.doc["short_url"] == f"{live.origin}/remote-a"

    url = remote.call("recipient_link", {"code": "remote-a", "recipient": "ada@example.com"})
    cli = run_cli("links", "recipient-url", "remote-a", "--recipient", "ada@example.com", *api,
                  "--json")  # fmt: skip
    assert url.doc == cli.json()

    stats = remote.call("link_stats", {"code": "remote-a"})
    assert stats.doc == run_cli("links", "stats", "remote-a", *api, "--json").json()
    campaign = remote.call("campaign_stats", {"campaign": "launch"})
    assert not campaign.error and campaign.doc["campaign"] == "launch"
    assert campaign.doc["total"] == stats.doc["total"]

    missing = remote.call("link_stats", {"code": "nope"})
    cli = run_cli("links", "stats", "nope", *api, "--json")
    assert cli.code == 1 and missing.error and missing.doc == cli.json()
    taken = remote.call("create_short_link", {"url": "https://shop.example/b", "code": "remote-a"})
    cli = run_cli("links", "create", "--url", "https://shop.example/b", "--code", "remote-a",
                  *api, "--json")  # fmt: skip
    assert cli.code == 1 and taken.error and taken.doc == cli.json()


def test_a_wrong_key_is_the_cli_auth_error(
    live: LiveServer, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    with ExitStack() as stack:
        bad = open_session(stack, "stdio", ["--api", live.origin, "--key", "tt_admin_x"], tmp_path)
        answer = bad.call("link_stats", {"code": "remote-a"})
        cli = run_cli("links", "stats", "remote-a", "--api", live.origin, "--key", "tt_admin_x",
                      "--json")  # fmt: skip
        assert cli.code == 1 and answer.error and answer.doc == cli.json()
        assert not bad.call("classify_visit", {"source": "a", "medium": "cpc"}).error


def test_api_needs_a_key(run_cli: Callable[..., Any]) -> None:
    result = run_cli("mcp", "--api", "http://127.0.0.1:9")
    assert result.code == 2 and "--api needs --key" in result.err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_http_server_stops_cleanly(tmp_path: Path, signum: signal.Signals) -> None:
    server = start_http(["--data-dir", str(tmp_path / "data")], tmp_path)
    try:
        server.proc.send_signal(signum)
        # uvicorn shuts down gracefully, then re-raises SIGTERM (the exit status says so)
        expected = 0 if signum == signal.SIGINT else -signal.SIGTERM
        assert server.proc.wait(timeout=15) == expected, server.stderr.read_text()
    finally:
        stop_process(server.proc)
    assert "Traceback" not in server.stderr.read_text()
