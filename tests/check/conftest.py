"""Real servers on 127.0.0.1 for the checker's tests: nginx, a TLS CA, a Python server, a canary.

Everything lives in a session tmp dir and is torn down at the end. nginx is required: `make test`
installs it (scripts/system-packages.sh); run directly without it and these fixtures fail with
a message saying so.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator

import pytest
import trustme
from loopback import (
    NGINX_CONF,
    Nginx,
    PyServer,
    chain_locations,
    free_port,
    nginx_binary,
    wait_for_port,
    write_site,
)


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = nginx_binary()
    tmp = tmp_path_factory.mktemp("nginx")
    ca = trustme.CA()
    write_site(tmp, ca)
    ports = {name: free_port() for name in ("http", "https", "expired", "wrong_host")}
    conf = tmp / "nginx.conf"
    # as root, workers would run as nobody and could not read the private tmp dir
    user = "user root root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, chain=chain_locations(), **ports))
    log = tmp / "stderr.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for port in ports.values():
            wait_for_port(port, proc, tmp / "error.log")
        yield Nginx(ca=ca, **ports)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
