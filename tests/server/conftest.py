"""An in-process server on each backend (SQLite in a temporary folder, the real PostgreSQL on
loopback), its admin key, and an authenticated client."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():  # starlette now prefers the httpx2 fork; httpx still works
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from harness.pg import postgres_database

from tagtrail.server.app import create_app
from tagtrail.service.keys import ensure_workspace
from tagtrail.settings import Settings
from tagtrail.store.database import prepare_store

ORIGIN = "https://go.example.com"


@dataclass
class Server:
    """A running app: its client (sending the admin key), settings and keys."""

    client: TestClient
    settings: Settings
    admin_key: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin_key}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.auth(), **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(
            path, headers={**self.auth(), **kwargs.pop("headers", {})}, **kwargs
        )

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.client.patch(path, headers=self.auth(), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self.auth(), **kwargs)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def start(tmp_path: Path, database_url: str | None = None, **extra: Any) -> Iterator[Server]:
    # Every in-process request comes from one address ("testclient"): tests that send wrong
    # keys on purpose would reach the failed-authentication limit, which has tests of its own.
    extra.setdefault("auth_failure_limit", 100_000)
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        base_url=ORIGIN,
        **extra,
    )
    engine = prepare_store(settings.store_url)
    try:
        _, key = ensure_workspace(engine, now=now())
    finally:
        engine.dispose()
    assert key is not None
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield Server(client, settings, key)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """The app on each backend."""
    if request.param == "sqlite":
        yield from start(tmp_path)
        return
    with postgres_database() as url:
        yield from start(tmp_path, url)


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Server]:
    """The app on SQLite only, for what does not depend on the backend (limits, tools, QR)."""
    yield from start(tmp_path)


@pytest.fixture
def open_server(tmp_path: Path) -> Iterator[Server]:
    """The app with the checker allowed to reach loopback (`unsafe_allow_private`)."""
    yield from start(tmp_path, unsafe_allow_private=True)
