"""Fixtures of the data commands: a local store on each backend, and a real `tagtrail serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.live import stop_process, wait_for_port
from harness.pg import postgres_database

from tagtrail.cli import main

TAGTRAIL = Path(sys.executable).parent / "tagtrail"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """Options naming a fresh local store: `--data-dir` (SQLite) or `--database-url`."""
    monkeypatch.chdir(tmp_path)  # nothing lands in the repository, no .env is read
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield _migrated(["--data-dir", str(data_dir)])
        return
    with postgres_database() as url:  # the signing secret still lives in --data-dir
        yield _migrated(["--database-url", url, "--data-dir", str(data_dir)])


def _migrated(options: list[str]) -> list[str]:
    """`options` once `tagtrail migrate` made their store's tables (its workspace is made by the
    first command that writes)."""
    assert main(["migrate", *options, "--json"]) == 0
    return options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    key: str
    data_dir: Path

    @property
    def api(self) -> list[str]:
        return ["--api", self.url, "--key", self.key]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAGTRAIL_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tagtrail serve` on a free loopback port and a fresh data dir; stopped cleanly after."""
    root = tmp_path_factory.mktemp("serve")
    data_dir = root / "data"
    port = free_port()
    out_path, err_path = root / "stdout.txt", root / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(TAGTRAIL), "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=root,
            env=_clean_env(),
        )
    try:
        wait_for_port(port, proc, err_path)
        key = next((w for w in out_path.read_text().split() if w.startswith("tt_admin_")), None)
        assert key, f"no admin key on the server's stdout: {out_path.read_text()!r}"
        yield Server(f"http://127.0.0.1:{port}", key, data_dir)
    finally:
        stop_process(proc)
