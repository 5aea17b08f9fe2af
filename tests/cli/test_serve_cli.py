"""`tagtrail serve`'s refusals (issue 16 item 17): a setting that is not valid is a usage error in
the CLI's own form (`Error:` / `Hint:`, exit 2), never pydantic's text; nothing starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env is read
    for name in ("TAGTRAIL_SECRET_KEY", "TAGTRAIL_PORT", "TAGTRAIL_WORKERS", "TAGTRAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)


def _is_cli_form(result: Any) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err.startswith("Error: ")
    assert "\nHint: " in result.err
    for pydantic_text in ("validation error", "pydantic", "type=", "input_value", "Traceback"):
        assert pydantic_text not in result.err
    assert "serving on" not in result.out


def _serve_with(run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Any:
    """`tagtrail serve` with `env` set, checked to be refused in the CLI's form."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run_cli("serve", "--data-dir", str(tmp_path / "data"))
    _is_cli_form(result)
    return result


def test_a_short_secret_key_is_a_usage_error(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _serve_with(run_cli, monkeypatch, tmp_path, TAGTRAIL_SECRET_KEY="short")
    assert "TAGTRAIL_SECRET_KEY must be at least 32 random characters" in result.err
    assert "secrets.token_urlsafe" in result.err
    assert "short" not in result.err.replace("TAGTRAIL", "")  # the value itself is not echoed
    assert not (tmp_path / "data").exists()


def test_a_placeholder_secret_key_is_refused_the_same_way(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _serve_with(run_cli, monkeypatch, tmp_path, TAGTRAIL_SECRET_KEY="changeme")
    assert "TAGTRAIL_SECRET_KEY must be at least 32 random characters" in result.err


@pytest.mark.parametrize("given", ["flag", "variable"])
def test_port_70000_is_a_usage_error(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, given: str
) -> None:
    argv = ["serve", "--data-dir", str(tmp_path / "data")]
    if given == "flag":
        argv += ["--port", "70000"]
    else:
        monkeypatch.setenv("TAGTRAIL_PORT", "70000")
    result = run_cli(*argv)
    _is_cli_form(result)
    assert "--port" in result.err and "70000" in result.err and "65535" in result.err


def test_a_setting_only_the_environment_gives_is_named_by_its_variable(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _serve_with(run_cli, monkeypatch, tmp_path, TAGTRAIL_COMMIT_BATCH="0")
    assert "TAGTRAIL_COMMIT_BATCH" in result.err and "greater than or equal to 1" in result.err
    assert "docs/configuration.md" in result.err


def test_json_errors_keep_the_usage_status(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAGTRAIL_SECRET_KEY", "short")
    result = run_cli("keys", "list", "--data-dir", str(tmp_path / "data"), "--json")
    assert result.code == 2, result.out + result.err
    document = result.json()
    assert document["status"] == 2 and document["ok"] is False
    assert document["error"].startswith("invalid setting: TAGTRAIL_SECRET_KEY must be")
    assert "validation error" not in result.out
