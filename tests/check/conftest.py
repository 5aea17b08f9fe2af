"""Real servers on 127.0.0.1 for the checker's tests: nginx, a TLS CA, a Python server, a canary.

Everything lives in a session tmp dir and is torn down at the end. nginx is required: `make test`
installs it (scripts/system-packages.sh); run directly without it and these fixtures fail with
a message saying so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from loopback import Nginx, PyServer, running_nginx


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    with running_nginx(tmp_path_factory.mktemp("nginx")) as server:
        yield server


@pytest.fixture(scope="session")
def _servers() -> Iterator[tuple[PyServer, PyServer]]:
    origin, canary = PyServer(), PyServer()
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (origin, canary)]
    for thread in threads:
        thread.start()
    try:
        yield origin, canary
    finally:
        for server in (origin, canary):
            server.stop.set()
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(timeout=5)


@pytest.fixture
def origin(_servers: tuple[PyServer, PyServer]) -> PyServer:
    """A small Python server for what nginx cannot say: slow, trickling and huge answers."""
    return _servers[0]


@pytest.fixture
def canary(_servers: tuple[PyServer, PyServer]) -> Iterator[PyServer]:
    """A loopback server that counts every connection made to it; guard tests expect zero."""
    server = _servers[1]
    server.connections = 0
    server.hits = 0
    yield server
