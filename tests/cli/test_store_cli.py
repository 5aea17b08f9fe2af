"""`tagtrail init` / `migrate`, and read commands that neither create nor migrate a store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tagtrail.store.database import create_engine_for, migrate, pending_migrations
from tests.conftest import CliResult

Run = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env is read, nothing lands in the repository


def test_a_read_command_on_an_empty_folder_says_to_run_init(run_cli: Run, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for argv in (["links", "list"], ["profile", "ana"], ["goals", "list"], ["keys", "list"]):
        result = run_cli(*argv, "--data-dir", str(data_dir), "--json")
        assert result.code == 1, (argv, result.out, result.err)
        body = result.json()
        assert body["ok"] is False and body["status"] == 1
        assert "run `tagtrail init`" in body["errors"][1]
    assert not data_dir.exists()  # nothing was written


def test_init_creates_the_store_once_then_reads_work(run_cli: Run, tmp_path: Path) -> None:
    store = ["--data-dir", str(tmp_path / "data")]
    first = run_cli("init", *store, "--json")
    assert first.code == 0, first.err
    assert first.json()["admin_key"].startswith("tt_admin_")
    again = run_cli("init", *store, "--json")
    assert again.code == 0 and again.json()["admin_key"] is None
    listed = run_cli("links", "list", *store, "--json")
    assert listed.code == 0, listed.err
    assert listed.json()["count"] == 0
    assert run_cli("migrate", *store, "--json").json() == {
        "ok": True,
        "applied": [],
        "folded_rows": 0,
    }


def test_an_unmigrated_database_is_refused_until_migrate(run_cli: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine_for(url)
    migrate(engine, upto=3)  # a store as an older version left it
    behind = len(pending_migrations(engine))
    assert behind > 0
    result = run_cli("links", "list", "--database-url", url, "--json")
    assert result.code == 1
    assert "run `tagtrail migrate`" in result.json()["errors"][1]
    assert len(pending_migrations(engine)) == behind  # the read changed nothing
    done = run_cli("migrate", "--database-url", url, "--json")
    assert done.code == 0 and len(done.json()["applied"]) == behind
    assert "links" in inspect(engine).get_table_names()
    engine.dispose()
