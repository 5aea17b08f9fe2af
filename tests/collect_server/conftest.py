"""The app on each backend with a write key (in-process), and helpers to read what it stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness.live import LiveServer, start_server
from harness.pg import postgres_database
from sqlalchemy import func, select

from tagtrail.service.keys import create_key
from tagtrail.store.database import prepare_store
from tagtrail.store.schema import events, touchpoints
from tests.server.conftest import Server, now, start


@dataclass
class Collector:
    server: Server
    write_key: str

    @property
    def client(self) -> Any:
        return self.server.client

    def send(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.client.post(path, json=body, auth=(self.write_key, ""), **kwargs)

    def count(self, table: Any = events) -> int:
        engine = prepare_store(self.server.settings.store_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        finally:
            engine.dispose()

    def rows(self, table: Any = events) -> list[Any]:
        engine = prepare_store(self.server.settings.store_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(select(table).order_by(table.c.id)).all())
        finally:
            engine.dispose()


def _collector(server: Server) -> Collector:
    engine = prepare_store(server.settings.store_url)
    try:
        _, raw = create_key(engine, 1, "write", "site", now=now())
    finally:
        engine.dispose()
    return Collector(server, raw)


@pytest.fixture(params=["sqlite", "postgresql"])
def collector(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Collector]:
    if request.param == "sqlite":
        for server in start(tmp_path):
            yield _collector(server)
        return
    with postgres_database() as url:
        for server in start(tmp_path, url):
            yield _collector(server)


@pytest.fixture
def lite_collector(tmp_path: Path) -> Iterator[Collector]:
    for server in start(tmp_path):
        yield _collector(server)


__all__ = ["Collector", "events", "touchpoints"]


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A real `tagtrail serve` (its default server) on a new store of each backend."""
    if request.param == "sqlite":
        with start_server(data_dir=tmp_path / "data") as server:
            yield server
        return
    with postgres_database() as url, start_server(database_url=url) as server:
        yield server
