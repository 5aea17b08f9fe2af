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

from sqlalchemy import Engine, Table
from sqlalchemy.pool import PoolProxiedConnection

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
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((table, row, loop, future))
        await future

    async def insert_many(self, table: Table, rows: list[Mapping[str, Any]]) -> None:
        """Queue `rows` for `table` (one item, all in the same transaction); return once committed.
        A table whose `info` has `ignore_duplicates` is written with `ON CONFLICT DO NOTHING`."""
        if not rows:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((table, _Rows(rows), loop, future))
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
        for table, row, _loop, _future in items:
            for one in row.rows if isinstance(row, _Rows) else (row,):
                groups[(table, tuple(one))].append(one)
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
        for _table, _row, loop, future in items:
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
        adapt = _sqlite_value if sqlite else _same
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
                cursor.executemany(sql, [tuple(adapt(row[c]) for c in columns) for row in rows])
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


class _Rows(Mapping[str, Any]):
    """Several rows queued as one item (`WriteQueue.insert_many`)."""

    def __init__(self, rows: list[Mapping[str, Any]]) -> None:
        self.rows = rows

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


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
