"""All server writes go through one queue and one thread: clicks and events committed in
groups, and the service layer's own writes (`Writes.call`) between two groups.

A request hands its row to `WriteQueue.insert` and waits; the writer thread takes every row
waiting (up to `batch`), inserts them in one transaction, commits, and only then wakes the
requests up. So a 302 is sent only for a click that is on disk, and a thousand concurrent clicks
cost a few commits, not a thousand (group commit, as databases do for their own logs).

An admin write (a link, a campaign, a goal, the workspace) is a service function handed to
`Writes.call`: the writer runs it in a transaction of its own after the group it was queued
with. SQLite has one writer at a time, and this is it: an admin write never waits on the lock
that the clicks' commits hold, so it cannot fail with `database is locked` while clicks arrive.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import zlib
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, DateTime, Engine, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from tagtrail.errors import StoreError, TagtrailError
from tagtrail.store.identities import FACT_TABLES, fold_once

logger = logging.getLogger(__name__)

Rows = Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Values:
    """Rows as tuples in `columns` order, already in the driver's form (SQLite times as
    `YYYY-MM-DD HH:MM:SS.ffffff` text): written as they are, with no per-value work."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """A service function to run on the writer as `fn(engine, *args, **kwargs)`. It is
    pickled to reach the writer process, so `fn` is a module-level function and its arguments
    and result are plain values."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


_Part = tuple[Table, Rows | Values]
_Item = tuple[tuple[_Part, ...] | Call, asyncio.AbstractEventLoop, asyncio.Future[Any]]
_Groups = dict[tuple[Table, tuple[str, ...]], list[Any]]
_STOP = object()
# SQLite: how often the WAL is copied back. Four times a second, each copy is short enough not to
# show in the redirect's latency (bench/redirect.py at half rate: p99 ~3.0 ms and the slowest
# answer 6-8 ms, against 3.4-4.7 ms and ~10 ms once a second), and the WAL stays near 20 MB.
CHECKPOINT_SECONDS = 0.25
# How often, at most, the identity facts of the commits are folded into the stored mapping.
FOLD_SECONDS = 0.1


class Writes(ABC):
    """What the server writes through: `WriteQueue` in the server process, or
    `tagtrail.store.journal.JournalClient` when `tagtrail serve` runs a writer process."""

    @abstractmethod
    async def write(self, *parts: _Part) -> None:
        """Queue rows for several tables as one item (the same transaction) and return once
        they are committed (StoreError if they are not). A table whose `info` has
        `ignore_duplicates` is written with `ON CONFLICT DO NOTHING`."""

    @abstractmethod
    async def close(self) -> None:
        """Commit what is queued and let go of the writer."""

    @abstractmethod
    async def submit(self, call: Call) -> Any:
        """Run `call` on the writer and return its result (or raise its error)."""

    async def call(
        self, fn: Callable[Concatenate[Engine, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the service write `fn(engine, *args, **kwargs)` on the writer, in a transaction of
        its own between two group commits, and return its result; its domain errors (NotFound,
        Conflict, InvalidLink, …) are raised here as they were there. A store failure is a
        StoreError (the API answers 503 with `Retry-After`): nothing was written."""
        result: T = await self.submit(Call(fn, args, kwargs))
        return result

    async def insert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Queue `row` for `table` and return once it is committed (StoreError if it failed)."""
        await self.write((table, (row,)))

    async def insert_many(self, table: Table, rows: Rows) -> None:
        """Queue `rows` for `table` (all in the same transaction); return once committed."""
        if rows:
            await self.write((table, rows))

    async def insert_values(self, table: Table, values: Values) -> None:
        """Queue `values` for `table` (all in the same transaction); return once committed."""
        if values.rows:
            await self.write((table, values))

    def write_row(
        self, table: Table, columns: tuple[str, ...], row: tuple[Any, ...]
    ) -> Awaitable[None]:
        """Queue one row, a tuple in `columns` order in the driver's form (as in `Values`); the
        result is awaited until it is committed. Not a coroutine, so that the redirect's click
        costs no coroutine of its own."""
        return self.write((table, Values(columns, [row])))


class WriteQueue(Writes):
    """One writer thread committing queued rows in groups of up to `batch`."""

    def __init__(
        self, engine: Engine, *, batch: int = 512, checkpoint_seconds: float = CHECKPOINT_SECONDS
    ) -> None:
        self._batch = batch
        self._group = GroupWriter(engine, checkpoint_seconds=checkpoint_seconds)
        self._queue: queue.SimpleQueue[_Item | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tagtrail-writer", daemon=True)
        self.committed = 0

    def start(self) -> None:
        self._thread.start()
        self._group.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then end the threads."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        self._group.close(timeout)

    async def close(self) -> None:
        await asyncio.to_thread(self.stop)

    async def write(self, *parts: _Part) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((parts, loop, future))
        await future

    async def submit(self, call: Call) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put((call, loop, future))
        return await future

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
        calls = [item for item in items if isinstance(item[0], Call)]
        if calls:  # the rows queued with them first, then each call in its own transaction
            self._commit_rows([item for item in items if not isinstance(item[0], Call)])
            for call, loop, future in calls:
                self._run_call(call, loop, future)  # type: ignore[arg-type]
        else:
            self._commit_rows(items)

    def _commit_rows(self, items: list[_Item]) -> None:
        if not items:
            return
        error: Exception | None = None
        try:
            self._group.commit(
                chain.from_iterable(parts for parts, _loop, _future in items)  # type: ignore[misc]
            )
        except StoreError as exc:
            error = exc
        else:
            self.committed += len(items)
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(list)
        for _parts, loop, future in items:
            by_loop[loop].append(future)
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(settle, futures, error)
            except RuntimeError:  # the loop closed while we committed
                pass

    def _run_call(
        self, call: Call, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]
    ) -> None:
        error: Exception | None = None
        result: Any = None
        try:
            result = self._group.run(call)
        except Exception as exc:  # handed to the request that waits for it
            error = exc
        try:
            loop.call_soon_threadsafe(answer, future, result, error)
        except RuntimeError:  # the loop closed while we ran it
            pass


class GroupWriter:
    """Commits groups of rows, each in one transaction, on a driver connection of its own (no
    pool checkout per group); on SQLite a thread of its own checkpoints the WAL. Used from one
    thread at a time: `WriteQueue`'s, or the writer process's (`tagtrail.store.journal`)."""

    def __init__(self, engine: Engine, *, checkpoint_seconds: float = CHECKPOINT_SECONDS) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._checkpoint_seconds = checkpoint_seconds
        self._stopped = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoints, name="tagtrail-checkpoint", daemon=True
        )
        self._finish = threading.Event()  # set by the checkpoint thread for the writer
        self._raw: PoolProxiedConnection | None = None
        self._parameters = 999  # SQLite's limit of bound parameters, read when connected
        self._stages: set[str] = set()  # PostgreSQL: this connection's COPY staging tables
        # Calls begin their transactions with BEGIN IMMEDIATE on SQLite (`database.py`): should
        # another process (the CLI) write too, they wait for its lock (`busy_timeout`) rather
        # than fail at their first write after a read.
        self._calls = engine.execution_options(tagtrail_write=True)
        self._folder: Connection | None = None  # the identity folds' connection
        self._fold_wanted = threading.Event()
        self._folds: threading.Thread | None = None  # started by the first fact-bearing commit

    def start(self) -> None:
        if self._sqlite:
            self._checkpointer.start()

    def close(self, timeout: float = 30.0) -> None:
        self._stopped.set()
        if self._checkpointer.is_alive():
            self._checkpointer.join(timeout)
        if self._folds is not None:  # the last facts are folded before the writer stops
            self._fold_wanted.set()
            self._folds.join(timeout)
            self._fold()
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._folder is not None:
            self._folder.close()
            self._folder = None

    def commit(self, parts: Iterable[_Part]) -> None:
        """Write `parts` in one transaction (StoreError if it failed: nothing was written)."""
        groups: _Groups = defaultdict(list)
        ready: _Groups = defaultdict(list)
        facts = False
        for table, rows in parts:
            facts = facts or carries_facts(table, rows)
            if isinstance(rows, Values):
                ready[(table, rows.columns)].extend(rows.rows)
                continue
            for row in rows:
                groups[(table, tuple(row))].append(row)
        try:
            self._write(groups, ready)
        except Exception as exc:  # never let the writer die
            logger.error("could not commit: %s", exc)
            self._drop_connection()
            raise StoreError(f"could not store the click: {exc}") from None
        if facts:
            self._want_fold()

    def _want_fold(self) -> None:
        if self._folds is None:
            self._folds = threading.Thread(
                target=self._fold_loop, name="tagtrail-identity-fold", daemon=True
            )
            self._folds.start()
        self._fold_wanted.set()

    def _fold_loop(self) -> None:
        """Folds on a thread of their own, at most every `FOLD_SECONDS`: acknowledgements never
        wait for them, and under load one fold takes the facts of many commits (its statements
        are paid once). The mapping is at most about `FOLD_SECONDS` plus one fold behind."""
        while True:
            self._fold_wanted.wait()
            if self._stopped.is_set():
                return
            self._fold_wanted.clear()
            if self._fold():
                self._fold_wanted.set()  # a chunk's worth was left: go on after the pause
            self._stopped.wait(FOLD_SECONDS)

    def _fold(self) -> int:
        """Fold the identity facts just committed into the stored mapping
        (`tagtrail.store.identities`), on a connection of its own. The mapping is derived
        data: on SQLite its commits skip the fsync (`synchronous=NORMAL`: atomic, and after a
        power cut the marks fall back with the rows they covered, so the next fold redoes
        them). A failed fold loses nothing either: the rows are stored, the next fold (or
        `tagtrail migrate`) catches up."""
        try:
            if self._folder is None:
                self._folder = self._calls.connect()
                if self._sqlite:  # on the driver's connection: outside any transaction
                    driver = self._folder.connection.driver_connection
                    driver.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]
            return fold_once(self._folder)
        except Exception:  # never let the writer die, never fail the rows' commit
            logger.warning(
                "could not fold identity facts (the next fold catches up)", exc_info=True
            )
            if self._folder is not None:
                self._folder.invalidate()
                self._folder.close()
                self._folder = None
            return 0

    @property
    def concurrent_calls(self) -> bool:
        """Whether calls may run beside the commits, on other threads (PostgreSQL: it locks rows;
        SQLite has one writer, so its calls run between two commits on the writer's thread)."""
        return not self._sqlite

    def run(self, call: Call) -> Any:
        """Run `call` (between two `commit`s; on another thread too if `concurrent_calls`): its
        result, or its error; a driver error becomes a StoreError."""
        try:
            return call.fn(self._calls, *call.args, **call.kwargs)
        except TagtrailError:
            raise
        except DBAPIError as exc:
            logger.error("could not commit %s: %s", getattr(call.fn, "__name__", call.fn), exc)
            raise StoreError(
                f"the store could not commit the change: {exc.orig}",
                hint="nothing was changed; try again in a moment",
            ) from exc

    def _checkpoints(self) -> None:
        """SQLite: this thread copies the WAL back into the database every
        `checkpoint_seconds` (a passive checkpoint: commits go on meanwhile), then asks the
        writer to finish it between two commits (`_finish_checkpoint`).

        Left to SQLite, the commit that crosses 1,000 WAL pages checkpoints, and every click
        waiting on that commit waits 5–20 ms more (the writer's connection has
        `wal_autocheckpoint=0`). But a checkpoint made only here never catches up with a
        writer that commits thousands of times a second: SQLite starts the WAL over only when
        every page in it has been copied back, so under steady load it grew by ~70 MB a second
        (bench/redirect.py: 680 MB after 10 s), and the kernel zeroed every new block of it."""
        raw = self._engine.raw_connection()
        try:
            while not self._stopped.wait(self._checkpoint_seconds):
                cursor = raw.cursor()
                try:
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self._finish.set()
                except Exception:  # a failed checkpoint is retried at the next tick
                    logger.warning("WAL checkpoint failed", exc_info=True)
                finally:
                    cursor.close()
        finally:
            raw.close()

    def _finish_checkpoint(self, cursor: Any) -> None:
        """On the writer's connection, between two commits: copy back the few pages written
        since the checkpoint thread's pass, so that the WAL is all copied and the next commit
        writes it from its start again (over blocks the file already has)."""
        self._finish.clear()
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:  # the checkpoint thread's next pass tries again
            logger.warning("WAL checkpoint failed", exc_info=True)

    def _write(self, groups: _Groups, ready: _Groups) -> None:
        """One transaction on the writer's own driver connection (no pool checkout per batch):
        the rows are plain values our own code made, so SQLAlchemy's per-value processing is
        skipped too. The writer thread shares the GIL with the event loop, so its Python time
        is request time."""
        if self._raw is None:
            self._raw = self._engine.raw_connection()
            if self._sqlite:
                self._raw.cursor().execute("PRAGMA wal_autocheckpoint=0")
                self._parameters = self._raw.driver_connection.getlimit(  # type: ignore[union-attr]
                    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
                )
        raw = self._raw
        sqlite = self._sqlite
        cursor = raw.cursor()
        if self._finish.is_set():
            self._finish_checkpoint(cursor)
        most = self._parameters
        if sqlite and not groups and len(ready) == 1:
            (table, columns), values = next(iter(ready.items()))
            if len(values) * len(columns) <= most:  # one statement: atomic without BEGIN
                try:
                    _insert_values(cursor, table, columns, values, most)
                finally:
                    cursor.close()
                return
        try:
            if sqlite:
                cursor.execute("BEGIN")
            for (table, columns), rows in groups.items():
                values = list(map(itemgetter(*columns), rows))
                if len(columns) == 1:
                    values = [(value,) for value in values]
                if sqlite:
                    times = _time_columns(table, columns)
                    if times:
                        values = [_with_times(row, times) for row in values]
                    _insert_values(cursor, table, columns, values, most)
                else:
                    cursor.executemany(_insert_sql(table, columns, "%s"), values)
            for (table, columns), values in ready.items():  # `Values`: as they are
                if sqlite:
                    _insert_values(cursor, table, columns, values, most)
                else:
                    self._copy_values(cursor, table, columns, values)
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

    def _copy_values(
        self, cursor: Any, table: Table, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        """PostgreSQL: `Values` rows by COPY (rows formatted by the driver's C code) into a
        temporary table of this connection, then one `INSERT … SELECT` (COPY itself has no
        `ON CONFLICT`); the temporary rows go at the commit."""
        names = ", ".join(columns)
        stage = f"tt_stage_{table.name}_{zlib.crc32(names.encode()):08x}"
        if stage not in self._stages:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT {names} FROM {table.name} WITH NO DATA"
            )
            self._stages.add(stage)
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conflict = " ON CONFLICT DO NOTHING" if table.info.get("ignore_duplicates") else ""
        cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage}{conflict}")

    def _drop_connection(self) -> None:
        self._stages.clear()
        if self._raw is not None:
            try:
                self._raw.invalidate()
            except Exception:  # the connection is being thrown away anyway
                logger.debug("closing a broken writer connection failed", exc_info=True)
            self._raw = None


def carries_facts(table: Table, rows: Rows | Values) -> bool:
    """Whether rows of `table` can hold identity facts (`tagtrail.store.identities`): events,
    identity facts and touchpoints do; a click does when it names a recipient."""
    if table.name in FACT_TABLES:
        return True
    if table.name != "clicks":
        return False
    if isinstance(rows, Values):
        if "recipient_id" not in rows.columns:
            return False
        at = rows.columns.index("recipient_id")
        return any(row[at] is not None for row in rows.rows)
    return any(row.get("recipient_id") is not None for row in rows)


@lru_cache(maxsize=256)
def _insert_sql(table: Table, columns: tuple[str, ...], mark: str, rows: int = 1) -> str:
    one = f"({', '.join(mark for _ in columns)})"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"
    return sql + (" ON CONFLICT DO NOTHING" if table.info.get("ignore_duplicates") else "")


def _insert_values(
    cursor: Any, table: Table, columns: tuple[str, ...], rows: list[Any], most: int
) -> None:
    """SQLite: `Values` rows in as few statements as its limit of `most` parameters allows,
    usually one for a whole group. Python's sqlite3 lets go of the GIL for every statement and
    must wait for the busy event loop to get it back: `executemany` waited once per row, and
    even statements of 64, 32, … 1 rows waited several times per group."""
    size = max(1, most // len(columns))
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        cursor.execute(
            _insert_sql(table, columns, "?", len(chunk)), list(chain.from_iterable(chunk))
        )


@lru_cache(maxsize=256)
def _time_columns(table: Table, columns: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, name in enumerate(columns) if isinstance(table.c[name].type, DateTime))


def _with_times(row: Sequence[Any], times: tuple[int, ...]) -> list[Any]:
    """The row with its times as SQLAlchemy stores them in SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`,
    UTC)."""
    values = list(row)
    for i in times:
        value = values[i]
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            values[i] = value.isoformat(" ", "microseconds")
    return values


def read_only(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    """`mapping` behind a read-only view (how the writer process unpickles one: here, not in
    `tagtrail.store.journal`, which runs as `__main__` there)."""
    return MappingProxyType(mapping)


def answer(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Wake the request waiting on `future` with `result`, or fail it with `error`."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    """Wake the requests waiting on `futures`: committed, or failed with `error`."""
    for future in futures:
        answer(future, None, error)
