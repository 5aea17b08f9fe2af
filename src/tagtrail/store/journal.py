"""The journal: one writer process that commits the rows of every server process.

`tagtrail serve` starts it before the server (`journal_process`) and hands its Unix socket to
the server processes (`TAGTRAIL_JOURNAL_SOCKET`). A server process's `JournalClient` gathers the
rows of the requests handled in one pass of its event loop (at most `FRAME_WRITES`) into one
frame; the journal commits the frames of all server processes that arrived during one pass of
its own loop in one transaction (`GroupWriter`, on its one thread), and answers each frame only
after that commit. So a 302 still goes out only for a stored click, and:

- the SQL runs on a core of its own: in the server process the writer thread held the GIL for
  every statement's parameters and every result it settled, and each time it took the GIL back
  it waited for the busy event loop to let go of it;
- several server processes share the embedded SQLite store through its one writer;
- the service layer's writes (`Writes.call`: a link, a campaign, a goal) run here too, each in
  a transaction of its own after the frames it arrived with, so they never wait on SQLite's
  lock; the answer to a call is its result or its domain error.

Frames are a 4-byte length and a pickle. The socket lives in a private folder (mode 0700) made
by the process that started the journal, so only that user can reach it; the store's URL, which
may hold a password, goes to the journal in its environment, not on its command line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copyreg
import io
import itertools
import logging
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import uvloop
from sqlalchemy import Table

from tagtrail.errors import StoreError, TagtrailError
from tagtrail.store.schema import metadata
from tagtrail.store.writer import (
    Call,
    GroupWriter,
    Values,
    Writes,
    answer,
    read_only,
    settle,
)

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
READY = b"journal ready\n"
_STORE_URL = "TAGTRAIL_JOURNAL_STORE_URL"
START_TIMEOUT = 60.0

_Frame = tuple[int, Any]
# A frame's rows: (table name, columns and tuples, or None and mappings).
_Plain = list[tuple[str, tuple[str, ...] | None, list[Any]]]
# A frame goes at the end of a pass of the loop, unless `IN_FLIGHT` frames already await their
# commit: then the writes wait in the client, and go as one frame as soon as an answer comes
# back. So the frames grow with the load by themselves, and the per-frame work (encoding, two
# socket writes and two reads, a pass of the journal's loop, a wake-up) is spread over more
# clicks; one frame is always on its way while the loop handles the requests of the next. A
# frame also goes at once when it holds `FRAME_WRITES` writes. Before, a frame went at the end
# of every pass, or at 12 writes: under Granian, which hands requests to the loop in small
# groups, a frame carried 3.7 clicks on average (7.6 under uvicorn).
IN_FLIGHT = 2
FRAME_WRITES = 256


def _encode(frame: object) -> bytes:
    payload = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


# Calls and their outcomes carry the service's frozen values, some of which hold read-only
# mappings (`BuildResult.utm`), which pickle cannot take as they are.
_CALL_TABLE = {
    **copyreg.dispatch_table,
    MappingProxyType: lambda proxy: (read_only, (dict(proxy),)),
}


def _encode_call(frame: object) -> bytes:
    """A call, or its outcome, as a frame."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _CALL_TABLE
    pickler.dump(frame)
    payload = buffer.getvalue()
    return _LENGTH.pack(len(payload)) + payload


class _Frames(asyncio.Protocol, ABC):
    """A stream of length-prefixed pickles, each handed to `received`."""

    transport: asyncio.Transport | None = None

    def __init__(self) -> None:
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while len(buffer) - start >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer, start)
            end = start + _LENGTH.size + size
            if len(buffer) < end:
                break
            self.received(pickle.loads(memoryview(buffer)[start + _LENGTH.size : end]))
            start = end
        del buffer[:start]

    @abstractmethod
    def received(self, frame: Any) -> None: ...


class JournalClient(Writes):
    """A server process's writer: `write` returns once the journal has committed the rows."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._protocol: _Answers | None = None
        self._loop: asyncio.AbstractEventLoop
        self._mappings: _Plain = []  # (table name, None, mapping rows)
        self._rows: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
        self._futures: list[asyncio.Future[None]] = []
        self._waiting: dict[int, list[asyncio.Future[None]]] = {}
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_unix_connection(lambda: _Answers(self), self._path)
        except OSError as exc:
            raise StoreError(f"cannot reach the writer process at {self._path}: {exc}") from None
        self._protocol = protocol
        self._loop = loop  # kept: Python 3.11 asks the kernel for its pid at every lookup

    async def write(self, *parts: Any) -> None:
        if self._protocol is None:
            await self.connect()
        for table, rows in parts:
            if isinstance(rows, Values):
                self._queue(table, rows.columns, rows.rows)
            else:
                self._mappings.append((str(table.name), None, list(rows)))
        await self._sent()

    async def submit(self, call: Call) -> Any:
        """A call goes in a frame of its own, at once; the journal runs it after the rows it
        received with it are committed, and answers with its result or its error."""
        if self._protocol is None:
            await self.connect()
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            raise StoreError("the writer process is gone", hint="try again in a moment")
        if self._futures:  # the writes queued before it go first, so it runs after them
            self._send()
        batch = next(self._ids)
        future = self._loop.create_future()
        self._calls[batch] = future
        protocol.transport.write(_encode_call((batch, call)))
        return await future

    def write_row(
        self, table: Table, columns: tuple[str, ...], row: tuple[Any, ...]
    ) -> Awaitable[None]:
        if self._protocol is None:  # `write` connects again first
            return self.write((table, Values(columns, [row])))
        self._queue(table, columns, (row,))
        return self._sent()

    def _queue(self, table: Table, columns: tuple[str, ...], rows: Sequence[Any]) -> None:
        """Rows of one table and columns go in one list of the frame: twelve clicks as twelve
        `Values` took 19 µs to pickle, as one list of tuples 1 µs."""
        key = (str(table.name), columns)  # a plain str: a `quoted_name` pickles as a call
        queued = self._rows.get(key)
        if queued is None:
            self._rows[key] = list(rows)
        else:
            queued.extend(rows)

    def _sent(self) -> asyncio.Future[None]:
        """The future of what was just queued: the frame goes at the end of this pass of the
        loop if fewer than `IN_FLIGHT` frames await their answers (else with the next answer),
        or now if it holds `FRAME_WRITES` writes."""
        loop = self._loop
        future = loop.create_future()
        if not self._futures and len(self._waiting) < IN_FLIGHT:
            loop.call_soon(self._send_if_free)
        self._futures.append(future)
        if len(self._futures) >= FRAME_WRITES:
            self._send()
        return future

    def _send_if_free(self) -> None:
        """The end of the pass: the frame goes unless the window filled meanwhile (then the
        next answer sends it)."""
        if len(self._waiting) < IN_FLIGHT:
            self._send()

    async def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()

    def _send(self) -> None:
        mappings, rows, futures = self._mappings, self._rows, self._futures
        self._mappings, self._rows, self._futures = [], {}, []
        if not futures:
            return
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            settle(futures, StoreError("the writer process is gone"))
            return
        batch = next(self._ids)
        self._waiting[batch] = futures
        plain: _Plain = [(name, columns, values) for (name, columns), values in rows.items()]
        protocol.transport.write(_encode((batch, plain + mappings)))

    def answered(self, batch: int, error: str | None, *outcome: Any) -> None:
        if outcome:  # a call's: (result, error)
            future = self._calls.pop(batch, None)
            if future is not None:
                answer(future, *outcome)
            return
        futures = self._waiting.pop(batch, [])
        if self._futures:  # writes held while the window was full: their frame goes now
            self._send()
        settle(futures, None if error is None else StoreError(error))

    def lost(self, exc: Exception | None) -> None:
        if self._protocol is not None:  # not closed by us
            logger.error("lost the writer process: %s", exc or "it closed the connection")
        self._protocol = None
        waiting, self._waiting = self._waiting, {}
        held, self._futures, self._rows, self._mappings = self._futures, [], {}, []
        for futures in [*waiting.values(), held]:
            settle(futures, StoreError("the writer process went away before the commit"))
        calls, self._calls = self._calls, {}
        gone = StoreError(
            "the writer process went away during the change",
            hint="it may or may not have been made: look, then try again",
        )
        settle(list(calls.values()), gone)


def _parts(plain: _Plain) -> Iterator[Any]:
    tables = metadata.tables
    for name, columns, rows in plain:
        yield tables[name], (rows if columns is None else Values(columns, rows))


class _Answers(_Frames):
    def __init__(self, client: JournalClient) -> None:
        super().__init__()
        self._client = client

    def received(self, frame: _Frame) -> None:
        self._client.answered(*frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self._client.lost(exc)


class _Batches(_Frames):
    """The journal's side of one server process's connection."""

    def __init__(self, journal: _Journal) -> None:
        super().__init__()
        self._journal = journal

    def received(self, frame: _Frame) -> None:
        self._journal.add(self, *frame)

    def answer(self, batch: int, error: str | None) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_encode((batch, error)))

    def answer_call(self, batch: int, result: Any, failure: Exception | None) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            frame = _encode_call((batch, None, result, failure))
        except Exception as exc:  # an unpicklable result or error is a bug of the call
            logger.error("cannot send back the outcome of a call: %s", exc)
            lost = StoreError("the writer could not send back the outcome of the change")
            frame = _encode((batch, None, None, lost))
        self.transport.write(frame)


class _Journal:
    """Group commit on the journal's one thread: the frames that arrived during one pass of its
    loop (from every server process) are committed together, then answered; the frames that
    arrive meanwhile wait in the sockets for the next pass. No thread hand-over, so no wake-up
    between receiving a frame and committing it."""

    def __init__(self, group: GroupWriter, batch: int) -> None:
        self._group = group
        self._batch = batch
        self._frames: list[tuple[_Batches, int, list[Any]]] = []
        self._calls: list[tuple[_Batches, int, Call]] = []
        # PostgreSQL locks rows, not the database: calls run on threads beside the loop, so
        # clicks do not wait for them. On SQLite they run on the loop, between two commits.
        self._beside = (
            ThreadPoolExecutor(max_workers=4, thread_name_prefix="tagtrail-call")
            if group.concurrent_calls
            else None
        )
        self._running: set[asyncio.Future[tuple[Any, Exception | None]]] = set()

    def add(self, connection: _Batches, batch: int, parts: list[Any] | Call) -> None:
        if not self._frames and not self._calls:
            asyncio.get_running_loop().call_soon(self.commit)
        if type(parts) is Call:
            self._calls.append((connection, batch, parts))
        else:
            self._frames.append((connection, batch, parts))  # type: ignore[arg-type]

    def commit(self) -> None:
        frames, self._frames = self._frames[: self._batch], self._frames[self._batch :]
        calls, self._calls = self._calls, []
        if self._frames:
            asyncio.get_running_loop().call_soon(self.commit)
        if frames:
            error = None
            try:
                self._group.commit(part for _, _, plain in frames for part in _parts(plain))
            except StoreError as exc:
                error = str(exc)
            for connection, batch, _ in frames:
                connection.answer(batch, error)
        for connection, batch, call in calls:  # each in a transaction of its own
            if self._beside is None:
                connection.answer_call(batch, *self._outcome(call))
                continue
            running = asyncio.get_running_loop().run_in_executor(self._beside, self._outcome, call)
            self._running.add(running)
            running.add_done_callback(partial(self._answer, connection, batch))

    def _outcome(self, call: Call) -> tuple[Any, Exception | None]:
        try:
            return self._group.run(call), None
        except TagtrailError as exc:
            return None, exc
        except Exception as exc:  # a bug of the call: logged here, a 500 there
            logger.exception("a call on the writer failed")
            return None, exc

    def _answer(
        self,
        connection: _Batches,
        batch: int,
        running: asyncio.Future[tuple[Any, Exception | None]],
    ) -> None:
        self._running.discard(running)
        connection.answer_call(batch, *running.result())

    async def drain(self) -> None:
        """Wait for the calls still running beside the loop (they are answered)."""
        if self._running:
            await asyncio.wait(set(self._running))
        if self._beside is not None:
            self._beside.shutdown()


async def serve_journal(path: str, group: GroupWriter, *, batch: int = 512) -> None:
    """Commit what server processes send to `path` until stdin closes or SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def watch_parent() -> None:  # the parent holds our stdin: EOF means it is gone
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_parent, name="tagtrail-journal-parent", daemon=True).start()
    journal = _Journal(group, batch)
    server = await loop.create_unix_server(lambda: _Batches(journal), path)
    os.chmod(path, 0o600)
    sys.stdout.buffer.write(READY)
    sys.stdout.buffer.flush()
    await stop.wait()
    server.close()
    journal.commit()  # what arrived last is committed and answered
    await journal.drain()


def main(argv: list[str] | None = None) -> None:
    """`python -m tagtrail.store.journal --socket PATH …` with the store's URL in
    `TAGTRAIL_JOURNAL_STORE_URL` (started by `journal_process`)."""
    from tagtrail.settings import load_settings
    from tagtrail.store.database import prepare_store

    parser = argparse.ArgumentParser(description="tagtrail's writer process")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--sqlite-synchronous", default="FULL")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s: journal: %(message)s")
    try:
        url = load_settings().journal_store_url
        engine = prepare_store(  # `serve` migrated it already; the journal runs alone too
            "" if url is None else url.get_secret_value(),
            sqlite_synchronous=args.sqlite_synchronous,
        )
    except TagtrailError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        sys.exit(f"tagtrail writer process: {exc.message}{hint}")
    group = GroupWriter(engine)
    group.start()
    try:
        uvloop.run(serve_journal(args.socket, group, batch=args.batch))
    finally:
        group.close()
        engine.dispose()


@dataclass
class RunningJournal:
    socket: str  # what `JournalClient` connects to
    process: subprocess.Popen[bytes]  # the current one: a journal that dies is started again


@contextlib.contextmanager
def journal_process(
    store_url: str, *, sqlite_synchronous: str, batch: int, log_level: str
) -> Iterator[RunningJournal]:
    """Run the journal for the duration of the block, starting it again if it dies (the
    clicks it was committing get the 503 page; the server processes connect again on their
    next write). At the end it commits what it was sent and exits; it also exits when this
    process dies."""
    folder = Path(tempfile.mkdtemp(prefix="tagtrail-"))  # mode 0700
    path = str(folder / "journal.sock")
    argv = [sys.executable, "-m", "tagtrail.store.journal", "--socket", path]
    argv += ["--sqlite-synchronous", sqlite_synchronous]
    argv += ["--batch", str(batch), "--log-level", log_level]
    env = {**os.environ, _STORE_URL: store_url}
    stopping = threading.Event()
    try:
        running = RunningJournal(path, _start(argv, env))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    def supervise() -> None:
        while True:
            code = running.process.wait()
            if stopping.is_set():
                return
            logger.error("the writer process stopped (exit code %s); starting it again", code)
            _close_pipes(running.process)
            while not stopping.is_set():
                try:
                    running.process = _start(argv, env)
                    break
                except StoreError as exc:
                    logger.error("%s; trying again in a second", exc.message)
                    stopping.wait(1.0)

    supervisor = threading.Thread(target=supervise, name="tagtrail-journal-watch", daemon=True)
    supervisor.start()
    try:
        yield running
    finally:
        stopping.set()
        proc = running.process
        _close_pipes(proc)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        supervisor.join(5)
        shutil.rmtree(folder, ignore_errors=True)


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the journal and wait until it listens (StoreError if it does not)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    if proc.stdout.readline() != READY:
        _close_pipes(proc)
        proc.wait(START_TIMEOUT)
        raise StoreError(
            f"the writer process did not start (exit code {proc.returncode})",
            hint="its error is printed above",
        )
    return proc


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    """Closing its stdin tells the journal to commit what it was sent and exit."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


if __name__ == "__main__":
    main()
