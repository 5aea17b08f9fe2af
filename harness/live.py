"""A real `tagtrail serve` subprocess on 127.0.0.1, for end-to-end tests and the benchmark.

    with start_server(data_dir=tmp_path / "data") as server:
        link = server.create_link("https://shop.example/spring")
        httpx.get(f"{server.origin}/{link['code']}")
        server.kill()                     # SIGKILL, as a crash would
        with server.restart() as again:   # the same store (and admin key), a new process
            ...

The server runs from the venv's own `tagtrail` script, with its stdout and stderr in files of a
private temporary folder (so a chatty server can never block on a full pipe).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from tagtrail.store.database import prepare_store

TAGTRAIL = Path(sys.executable).parent / "tagtrail"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes], err_path: Path, *, what: str = "tagtrail serve"
) -> None:
    """Wait up to 30 s for `proc` to listen on `port`; fail with its stderr if it dies or hangs."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}: {err_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"{what} did not listen on {port} within 30 s: {err_path.read_text()}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate `proc` and wait; kill it if it hangs."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
        proc.kill()
        proc.wait(timeout=5)


def random_secret() -> str:
    """A 48-character random signing secret for `TAGTRAIL_SECRET_KEY`."""
    return secrets.token_urlsafe(36)


@dataclass
class LiveServer:
    """One running `tagtrail serve` process; `stop()` or `kill()` it. As a context manager it
    is stopped at the end, and its log folder removed."""

    proc: subprocess.Popen[bytes]
    port: int
    key: str
    logs: Path
    data_dir: Path | None = None
    database_url: str | None = None
    workers: int = 1
    env: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = (str(TAGTRAIL),)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        assert self.data_dir is not None
        return f"sqlite:///{(self.data_dir / 'tagtrail.db').resolve()}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API with the admin key; the JSON answer (raises on a 4xx/5xx)."""
        with httpx.Client(base_url=self.origin, headers=self.headers, timeout=30) as client:
            response = client.request(method, path, **kwargs)
        if response.is_error:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def create_link(self, url: str, **fields: Any) -> dict[str, Any]:
        body = {"source": "newsletter", "medium": "email", "campaign": "spring", **fields}
        result: dict[str, Any] = self.api("POST", "/api/links", json={"url": url, **body})
        return result

    def recipient_url(self, code: str, recipient: str) -> str:
        body = {"recipient": recipient}
        return str(self.api("POST", f"/api/links/{code}/recipient-url", json=body)["url"])

    def output(self) -> str:
        return (self.logs / "stdout.txt").read_text() + (self.logs / "stderr.txt").read_text()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait (uvicorn drains and the writer commits what is queued)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group (uvicorn's workers too), as a crash would."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
        shutil.rmtree(self.logs, ignore_errors=True)

    def restart(self) -> LiveServer:
        """A new server process on the same store and port (the old one must be stopped)."""
        assert self.proc.poll() is not None, "stop() or kill() the server first"
        return start_server(
            data_dir=self.data_dir,
            database_url=self.database_url,
            workers=self.workers,
            env=self.env,
            port=self.port,
            key=self.key,
            command=self.command,
        )


def start_server(
    *,
    data_dir: Path | None = None,
    database_url: str | None = None,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    key: str | None = None,
    command: Sequence[str] = (str(TAGTRAIL),),
) -> LiveServer:
    """Start `tagtrail serve` and wait until it answers; `key` is the admin key of a store that
    already has one (the first start on a new store prints it, and that is what is read);
    `command` runs instead of the `tagtrail` script (a benchmark's launcher)."""
    assert data_dir is not None or database_url is not None, "give a data_dir or a database_url"
    port = port or free_port()
    logs = Path(tempfile.mkdtemp(prefix="tagtrail-live-"))
    argv = [*command, "serve", "--port", str(port), "--workers", str(workers)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if database_url is not None:
        argv += ["--database-url", database_url]
    extra = dict(env or {})
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TAGTRAIL_")}
    full_env.update({"TAGTRAIL_LOG_LEVEL": "warning", **extra})
    with (logs / "stdout.txt").open("wb") as out, (logs / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=full_env, start_new_session=True)
    server = LiveServer(
        proc, port, key or "", logs, data_dir, database_url, workers, extra, tuple(command)
    )
    try:
        _wait_until_up(server)
        if not server.key:
            server.key = _admin_key(server)
    except BaseException:
        server.kill()
        shutil.rmtree(logs, ignore_errors=True)
        raise
    return server


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"tagtrail serve exited {server.proc.returncode}:\n{server.output()}"
            )
        try:
            with httpx.Client(timeout=1) as client:
                if client.get(server.origin + "/health").status_code == 200:
                    return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"tagtrail serve did not answer in {START_TIMEOUT} s:\n{server.output()}")


def _admin_key(server: LiveServer) -> str:
    for line in (server.logs / "stdout.txt").read_text().splitlines():
        if "tt_admin_" in line:
            return line.strip()
    raise RuntimeError(f"no admin key on tagtrail serve's stdout:\n{server.output()}")


def write_key(run_cli: Callable[..., Any], server: LiveServer) -> str:
    """A new `write` key of the server's store, made by the CLI (`run_cli` fixture)."""
    where = (
        ["--database-url", server.database_url]
        if server.database_url
        else ["--data-dir", str(server.data_dir)]
    )
    made = run_cli("keys", "create", "--kind", "write", "--name", "site", "--json", *where)
    assert made.code == 0, made.err
    key = made.json()["key"]
    assert key.startswith("tt_write_")
    return str(key)


@dataclass(frozen=True, slots=True)
class Answer:
    """One response, read whole (status line, headers, `content-length` bytes of body)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    head: str  # the status line and headers as received


async def fetch_many(
    origin: str,
    paths: Iterable[str],
    *,
    concurrency: int = 64,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    answers: list[Answer] | None = None,
) -> list[Answer]:
    """Send each path over `concurrency` keep-alive HTTP/1.1 connections; the answers that
    arrived whole, in arrival order (also appended to `answers` as they arrive, so a caller that
    cancels this still knows what came back). A connection that breaks ends its worker.

    A few dozen lines of asyncio streams rather than httpx: on this 2-core machine httpx's
    own Python cost (~3 ms a request at 64 in flight) would starve the server under test.
    """
    host, _, port = origin.removeprefix("http://").partition(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    todo = iter(paths)
    got: list[Answer] = [] if answers is None else answers

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port or 80))
        try:
            for path in todo:
                request = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n"
                writer.write(request.encode("latin-1"))
                answer = await _read_answer(reader, method)
                if answer is None:
                    return
                got.append(answer)
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return got


def endless_load(origin: str, path: str, answers: list[Answer]) -> threading.Thread:
    """A started thread sending `path` over 32 connections until the server goes away,
    appending each answer to `answers`."""
    load = threading.Thread(
        target=lambda: asyncio.run(
            fetch_many(origin, itertools.repeat(path), concurrency=32, answers=answers)
        )
    )
    load.start()
    return load


async def _read_answer(reader: asyncio.StreamReader, method: str) -> Answer | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
    length = 0 if method == "HEAD" else int(fields.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Answer(status, fields, body, text)


@contextlib.contextmanager
def store_for(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`start_server` arguments for a fresh store: `sqlite` (in tmp_path) or `postgresql` (a
    throw-away database on the local server, dropped afterwards)."""
    if backend == "sqlite":
        yield {"data_dir": tmp_path / "data"}
        return
    from harness.pg import postgres_database

    with postgres_database() as url:
        yield {"database_url": url}


def query(store_url: str, statement: Any) -> list[Any]:
    """Rows of one SQLAlchemy statement, read straight from the store the server writes."""
    engine = prepare_store(store_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement))
    finally:
        engine.dispose()


def dump_store(store_url: str) -> str:
    """Every value of every row of every table, as text (to search for what must not be there)."""
    engine = prepare_store(store_url)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn)
            parts = [
                "\t".join(str(value) for value in row)
                for table in meta.sorted_tables
                for row in conn.execute(select(table))
            ]
    finally:
        engine.dispose()
    return "\n".join(parts)
