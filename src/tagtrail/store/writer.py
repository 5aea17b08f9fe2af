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
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.exc import DBAPIError

from tagtrail.errors import StoreError

logger = logging.getLogger(__name__)

_Item = tuple[Table, Mapping[str, Any], asyncio.AbstractEventLoop, asyncio.Future[None]]
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

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then end the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    async def insert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Queue `row` for `table` and return once it is committed (StoreError if it failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((table, row, loop, future))
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

    def _commit(self, items: list[_Item]) -> None:
        by_table: dict[Table, list[Mapping[str, Any]]] = defaultdict(list)
        for table, row, _loop, _future in items:
            by_table[table].append(row)
        error: Exception | None = None
        try:
            with self._engine.begin() as conn:
                for table, rows in by_table.items():
                    self._insert(conn, table, rows)
        except DBAPIError as exc:
            logger.error("could not commit %d rows: %s", len(items), exc.orig)
            error = StoreError(f"could not store the click: {exc.orig}")
        except Exception as exc:  # never let the writer thread die
            logger.exception("writer failed")
            error = StoreError(f"could not store the click: {exc}")
        else:
            self.committed += len(items)
            self.commits += 1
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(list)
        for _table, _row, loop, future in items:
            by_loop[loop].append(future)
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, futures, error)
            except RuntimeError:  # the loop closed while we committed
                pass


    def _insert(self, conn: Connection, table: Table, rows: list[Mapping[str, Any]]) -> None:
        """One driver-level executemany: the rows are plain values our own code made, so the
        ORM-level bind processing SQLAlchemy would do per value is skipped (the writer thread
        shares the GIL with the event loop, so its Python time is request time)."""
        columns = tuple(rows[0])
        if any(tuple(row) != columns for row in rows):
            conn.execute(insert(table), rows)
            return
        sqlite = self._engine.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join(mark for _ in columns)})"
        )
        adapt = _sqlite_value if sqlite else _same
        conn.exec_driver_sql(sql, [tuple(adapt(row[c]) for c in columns) for row in rows])


def _sqlite_value(value: Any) -> Any:
    """Values as SQLAlchemy stores them in SQLite (times as `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _same(value: Any) -> Any:
    return value


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
