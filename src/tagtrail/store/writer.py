"""All server writes of clicks go through one queue and one thread, committed in groups.

A request hands its row to `WriteQueue.insert` and waits; the writer thread takes every row
waiting (up to `batch`), inserts them in one transaction, commits, and only then wakes the
requests up. So a 302 is sent only for a click that is on disk, and a thousand concurrent clicks
cost a few commits, not a thousand (group commit, as databases do for their own logs).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine, Table
from sqlalchemy.pool import PoolProxiedConnection

from tagtrail.errors import StoreError

logger = logging.getLogger(__name__)

Rows = Sequence[Mapping[str, Any]]
_Item = tuple[tuple[tuple[Table, Rows], ...], asyncio.AbstractEventLoop, asyncio.Future[None]]
_STOP = object()


class WriteQueue:
    """One writer thread committing queued rows in groups of up to `batch`."""

    def __init__(self, engine: Engine, *, batch: int = 512) -> None:
        self._engine = engine
        self._batch = batch
        self._queue: queue.SimpleQueue[_Item | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tagtrail-writer", daemon=True)
        self.committed = 0
        self.commits = 0
        self._raw: PoolProxiedConnection | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then end the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    async def insert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Queue `row` for `table` and return once it is committed (StoreError if it failed)."""
        await self.write((table, (row,)))

    async def insert_many(self, table: Table, rows: Rows) -> None:
        """Queue `rows` for `table` (all in the same transaction); return once committed."""
        if rows:
            await self.write((table, rows))

    async def write(self, *parts: tuple[Table, Rows]) -> None:
        """Queue rows for several tables as one item (the same transaction) and return once
        they are committed. A table whose `info` has `ignore_duplicates` is written with
        `ON CONFLICT DO NOTHING`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((parts, loop, future))
        await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            items: list[_Item] = [first]  # type: ignore[list-item]
            while len(items) < self._batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                items.append(item)  # type: ignore[arg-type]
            self._commit(items)
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def _commit(self, items: list[_Item]) -> None:
        groups: dict[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]] = defaultdict(list)
        for parts, _loop, _future in items:
            for table, rows in parts:
                for row in rows:
                    groups[(table, tuple(row))].append(row)
        error: Exception | None = None
        try:
            self._write(groups)
        except Exception as exc:  # never let the writer thread die
            logger.error("could not commit %d rows: %s", len(items), exc)
            self._drop_connection()
            error = StoreError(f"could not store the click: {exc}")
        else:
            self.committed += len(items)
            self.commits += 1
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(list)
        for _parts, loop, future in items:
            by_loop[loop].append(future)
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, futures, error)
            except RuntimeError:  # the loop closed while we committed
                pass

    def _write(
        self, groups: Mapping[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]]
    ) -> None:
        """One transaction on the writer's own driver connection (no pool checkout per batch):
        the rows are plain values our own code made, so SQLAlchemy's per-value processing is
        skipped too. The writer thread shares the GIL with the event loop, so its Python time
        is request time."""
        if self._raw is None:
            self._raw = self._engine.raw_connection()
        raw = self._raw
        sqlite = self._engine.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        cursor = raw.cursor()
        try:
            if sqlite:
                cursor.execute("BEGIN")
            for (table, columns), rows in groups.items():
                sql = (
                    f"INSERT INTO {table.name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join(mark for _ in columns)})"
                )
                if table.info.get("ignore_duplicates"):
                    sql += " ON CONFLICT DO NOTHING"
                values = list(map(itemgetter(*columns), rows))
                if len(columns) == 1:
                    values = [(value,) for value in values]
                if sqlite:
                    values = [tuple(map(_sqlite_value, row)) for row in values]
                cursor.executemany(sql, values)
            if sqlite:
                cursor.execute("COMMIT")
            else:
                raw.commit()
        except BaseException:
            try:
                raw.rollback()
            finally:
                raise
        finally:
            cursor.close()

    def _drop_connection(self) -> None:
        if self._raw is not None:
            try:
                self._raw.invalidate()
            except Exception:  # the connection is being thrown away anyway
                logger.debug("closing a broken writer connection failed", exc_info=True)
            self._raw = None


def _sqlite_value(value: Any) -> Any:
    """Values as SQLAlchemy stores them in SQLite (times as `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
