"""Group commit on the server's own event loop (`TAGTRAIL_WRITER=loop`, the default of one
worker on the embedded SQLite store).

The rows the requests of one pass of the loop queued are committed at the end of that pass, on
the loop's thread, and their requests woken before the next pass begins: no frame to another
process, no thread hand-over, so no wake-up of anything between a click and its commit. The
writer process (`tagtrail.store.journal`) does the same on its own loop, one socket round trip
away: ~0.65 ms a frame here, of which ~0.3 ms is the two processes waking each other up
(docs/clicks.md). The loop does the commit's work itself (~0.3 ms for ~11 clicks), which it no
longer spends sending frames and reading answers.

A service write (`Writes.call`) runs on a thread, one at a time: SQLite has one writer, so the
rows queued meanwhile wait for it to finish, then go in one commit; the loop goes on answering
everything else. The identity folds and the WAL checkpoints keep their threads
(`GroupWriter`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, Table

from tagtrail.errors import StoreError
from tagtrail.store.writer import (
    CHECKPOINT_SECONDS,
    Call,
    GroupWriter,
    Rows,
    Values,
    Writes,
    answer,
    settle,
)


class LoopWriter(Writes):
    """Commits what the requests of one pass of the loop queued, at the end of that pass (or at
    once when `batch` writes are queued), and runs calls one at a time on a thread between two
    commits. Used from one event loop."""

    def __init__(
        self, engine: Engine, *, batch: int = 512, checkpoint_seconds: float = CHECKPOINT_SECONDS
    ) -> None:
        self._group = GroupWriter(engine, checkpoint_seconds=checkpoint_seconds)
        self._batch = batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rows: dict[tuple[Table, tuple[str, ...]], list[Any]] = {}  # Values, merged
        self._mappings: list[tuple[Table, Rows]] = []  # rows given as mappings
        self._futures: list[asyncio.Future[None]] = []
        self._calls: deque[tuple[Call, asyncio.Future[Any]]] = deque()
        self._calling: asyncio.Future[Any] | None = None  # the call running on the thread
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagtrail-call")
        self.committed = 0  # writes committed

    def start(self) -> None:
        self._group.start()

    async def write(self, *parts: tuple[Table, Rows | Values]) -> None:
        for table, rows in parts:
            if isinstance(rows, Values):
                self._queue(table, rows.columns, rows.rows)
            else:
                self._mappings.append((table, rows))
        await self._queued()

    def write_row(
        self, table: Table, columns: tuple[str, ...], row: tuple[Any, ...]
    ) -> Awaitable[None]:
        self._queue(table, columns, (row,))
        return self._queued()

    async def submit(self, call: Call) -> Any:
        future = self._running_loop().create_future()
        self._calls.append((call, future))
        if self._calling is None:
            self._next()
        return await future

    async def close(self) -> None:
        """Wait for the calls queued, commit the rows, then stop the writer's threads."""
        while self._calling is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._calling)
        self._commit()
        self._thread.shutdown()
        await asyncio.to_thread(self._group.close)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:  # kept: Python 3.11 asks the kernel for its pid at every lookup
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _queue(self, table: Table, columns: tuple[str, ...], rows: Sequence[Any]) -> None:
        queued = self._rows.get((table, columns))
        if queued is None:
            self._rows[(table, columns)] = list(rows)
        else:
            queued.extend(rows)

    def _queued(self) -> asyncio.Future[None]:
        """The future of what was just queued: committed at the end of this pass of the loop,
        now if `batch` writes wait, or after the call running on the thread."""
        loop = self._running_loop()
        future = loop.create_future()
        if not self._futures and self._calling is None:
            loop.call_soon(self._commit)
        self._futures.append(future)
        if len(self._futures) >= self._batch and self._calling is None:
            self._commit()
        return future

    def _commit(self) -> None:
        if self._calling is not None or not self._futures:
            return  # the call's end commits them
        rows, mappings, futures = self._rows, self._mappings, self._futures
        self._rows, self._mappings, self._futures = {}, [], []
        parts: list[tuple[Table, Rows | Values]] = [
            (table, Values(cols, values)) for (table, cols), values in rows.items()
        ]
        error: StoreError | None = None
        try:
            self._group.commit([*parts, *mappings])
        except StoreError as exc:
            error = exc
        else:
            self.committed += len(futures)
        settle(futures, error)

    def _next(self) -> None:
        """Run the next call on the thread, after committing the rows queued before it."""
        self._commit()
        call, future = self._calls.popleft()
        calling = self._running_loop().run_in_executor(self._thread, self._group.run, call)
        self._calling = calling

        def done(_: asyncio.Future[Any]) -> None:
            error = calling.exception()
            answer(future, None if error else calling.result(), error)
            self._calling = None
            if self._calls:
                self._next()
            else:
                self._commit()

        calling.add_done_callback(done)
