"""The writer process (`tagtrail.store.journal`), on SQLite and PostgreSQL: rows sent by several
server processes are committed before they are answered, a failed commit fails its waiters
and the journal goes on, and a journal that goes away fails what waits instead of hanging."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tagtrail.errors import StoreError
from tagtrail.service.keys import ensure_workspace
from tagtrail.store.journal import JournalClient, RunningJournal, journal_process
from tagtrail.store.schema import events
from tagtrail.store.writer import Values

WHEN = datetime(2026, 5, 1, 12, 0, 0, 250_000)


def _event(message_id: str) -> dict[str, object]:
    return {
        "workspace_id": 1,
        "message_id": message_id,
        "type": "track",
        "timestamp": WHEN,
        "received_at": WHEN,
    }


def _stored(engine: Engine, message_ids: list[str] | None = None) -> int:
    statement = select(func.count()).select_from(events)
    if message_ids is not None:
        statement = statement.where(events.c.message_id.in_(message_ids))
    with engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def _journal(store_url: str) -> AbstractContextManager[RunningJournal]:
    return journal_process(store_url, sqlite_synchronous="FULL", batch=64, log_level="warning")


def test_rows_of_several_clients_are_stored_before_they_are_answered(
    engine: Engine, store_url: str
) -> None:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    seen_at_answer: list[int] = []

    async def client(path: str, name: str) -> None:
        journal = JournalClient(path)
        await journal.connect()

        async def one(i: int) -> None:
            message_id = f"{name}-{i}"
            await journal.insert(events, _event(message_id))
            if i % 50 == 0:  # read back from another connection as soon as it is answered
                seen_at_answer.append(await asyncio.to_thread(_stored, engine, [message_id]))

        try:
            await asyncio.gather(*(one(i) for i in range(1_000)))
        finally:
            await journal.close()

    async def three_clients(path: str) -> None:
        await asyncio.gather(*(client(path, name) for name in ("a", "b", "c")))

    with _journal(store_url) as running:
        path = running.socket
        asyncio.run(three_clients(path))
    assert _stored(engine) == 3_000
    assert seen_at_answer == [1] * 60


def test_values_and_mappings_go_through_as_they_would_in_process(
    engine: Engine, store_url: str
) -> None:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    stamp: object = WHEN.isoformat(" ", "microseconds") if "sqlite" in store_url else WHEN
    columns = ("workspace_id", "message_id", "type", "timestamp", "received_at")

    async def send(path: str) -> None:
        journal = JournalClient(path)
        await journal.connect()
        await journal.insert_values(
            events, Values(columns, [(1, f"v{i}", "page", stamp, stamp) for i in range(500)])
        )
        await journal.insert_many(events, [_event("m1"), _event("m2"), _event("v1")])
        await journal.close()

    with _journal(store_url) as running:
        path = running.socket
        asyncio.run(send(path))
    assert _stored(engine) == 502  # v1 again is a duplicate, ignored


def test_a_failed_commit_fails_its_waiters_and_the_next_one_succeeds(
    engine: Engine, store_url: str
) -> None:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))

    async def send(path: str) -> None:
        journal = JournalClient(path)
        await journal.connect()
        with pytest.raises(StoreError, match="could not store"):
            await journal.insert(events, {**_event("bad"), "type": None})  # NOT NULL
        await journal.insert(events, _event("good"))
        await journal.close()

    with _journal(store_url) as running:
        path = running.socket
        asyncio.run(send(path))
    assert _stored(engine) == 1


def test_a_journal_that_dies_fails_waiting_writes_and_is_started_again(
    engine: Engine, store_url: str
) -> None:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))

    async def send(running: RunningJournal) -> None:
        journal = JournalClient(running.socket)
        await journal.connect()
        await journal.insert(events, _event("before"))
        first = running.process
        first.kill()
        with pytest.raises(StoreError):  # in flight, or refused: never a hang, never a success
            await asyncio.wait_for(journal.insert(events, _event("lost")), timeout=10)
        for _ in range(200):  # the supervisor starts a new journal on the same socket
            if running.process is not first:
                break
            await asyncio.sleep(0.05)
        assert running.process is not first
        for _ in range(100):  # the client connects again on its next write
            try:
                await journal.insert(events, _event("after"))
                break
            except StoreError:
                await asyncio.sleep(0.05)
        await journal.close()

    with _journal(store_url) as running:
        asyncio.run(send(running))
    with engine.connect() as conn:
        stored = set(conn.execute(select(events.c.message_id)).scalars())
    assert stored == {"before", "after"}


def test_a_journal_that_cannot_open_its_store_says_so() -> None:
    with (
        pytest.raises(StoreError, match="the writer process did not start"),
        journal_process("nosuch://x", sqlite_synchronous="FULL", batch=64, log_level="critical"),
    ):
        pass


def test_the_store_url_is_not_on_the_journal_command_line(store_url: str) -> None:
    with _journal(store_url) as running:  # a PostgreSQL URL may carry a password
        command_line = Path(f"/proc/{running.process.pid}/cmdline").read_bytes()
        assert store_url.encode() not in command_line
        assert b"tagtrail.store.journal" in command_line
