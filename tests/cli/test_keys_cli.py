"""`tagtrail keys …` on a local store (SQLite and PostgreSQL), and keys used against a server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Server

Run = Callable[..., Any]
KEY_KEYS = ["key", "id", "kind", "name", "prefix", "created_at", "revoked_at"]


def test_create_json_shows_the_raw_key_once(run_cli: Run, store: list[str]) -> None:
    result = run_cli("keys", "create", "--kind", "write", "--name", "website", *store, "--json")
    assert result.code == 0, result.out + result.err
    made = result.json()
    assert list(made) == KEY_KEYS
    assert made["key"].startswith("tt_write_") and made["key"].startswith(made["prefix"])
    assert (made["kind"], made["name"], made["revoked_at"]) == ("write", "website", None)
    listed = run_cli("keys", "list", *store, "--json")
    assert listed.code == 0
    body = listed.json()
    assert list(body) == ["data", "count"] and body["count"] == 2  # the first admin key too
    assert made["key"] not in listed.out and "key_hash" not in listed.out
    assert [k["kind"] for k in body["data"]] == ["admin", "write"]
    assert all("key" not in item for item in body["data"])


def test_human_output_and_revoke(run_cli: Run, store: list[str]) -> None:
    made = run_cli("keys", "create", *store)  # admin by default
    assert made.code == 0
    raw = made.out.strip()
    assert raw.startswith("tt_admin_") and len(made.out.splitlines()) == 1
    assert "shown only this once" in made.err
    table = run_cli("keys", "list", *store)
    assert "first admin key" in table.out and raw not in table.out and raw[:13] in table.out
    key_id = run_cli("keys", "list", *store, "--json").json()["data"][-1]["id"]
    revoked = run_cli("keys", "revoke", str(key_id), *store, "--json")
    assert revoked.code == 0 and revoked.json()["revoked_at"] is not None
    again = run_cli("keys", "revoke", str(key_id), *store, "--json")
    assert again.code == 1 and again.json()["error"] == f"no active key with id {key_id}"
    assert "Revoked key" in run_cli("keys", "revoke", "1", *store).out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--kind", "root"], "'root' is not one of 'admin', 'write'"),
        (["keys", "revoke", "abc"], "'abc' is not a valid integer"),
        (["keys", "list", "--api", "http://127.0.0.1:8080"], "keys are managed where the store"),
        (["keys", "create", "--key", "tt_admin_x"], "keys are managed where the store"),
    ],
)
def test_bad_input_is_a_usage_error(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    human = run_cli(*args)
    assert human.code == 2 and message in human.err and "Traceback" not in human.err
    assert message in run_cli(*args, "--json").json()["error"]
    assert not (tmp_path / "tagtrail-data").exists()


def test_tagtrail_api_in_the_environment_is_refused_too(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGTRAIL_API", "http://127.0.0.1:8080")
    result = run_cli("keys", "list", "--json")
    assert result.code == 2 and "keys are managed where the store is" in result.json()["error"]


def test_keys_made_on_the_servers_store_work_against_it(run_cli: Run, server: Server) -> None:
    store = ["--data-dir", str(server.data_dir)]
    made = run_cli("keys", "create", "--name", "ci", *store, "--json").json()
    api = ["--api", server.url, "--key", made["key"]]
    assert run_cli("links", "list", *api, "--json").code == 0
    write = run_cli("keys", "create", "--kind", "write", *store, "--json").json()
    refused = run_cli("links", "list", "--api", server.url, "--key", write["key"], "--json")
    assert refused.code == 1 and refused.json()["error"] == "a write key cannot do this"
    assert run_cli("keys", "revoke", str(made["id"]), *store).code == 0
    gone = run_cli("links", "list", *api, "--json")
    assert gone.code == 1 and gone.json()["error"] == "unknown or revoked API key"
