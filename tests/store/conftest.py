"""A store on each backend: SQLite in a temporary folder, and the real PostgreSQL on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.pg import postgres_database
from sqlalchemy import Engine

from tagtrail.store.database import prepare_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tagtrail.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = prepare_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def secret() -> bytes:
    return secrets.token_bytes(32)
