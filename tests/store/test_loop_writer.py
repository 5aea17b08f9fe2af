"""`LoopWriter`: the writes of one pass of the loop go in one commit at its end, are answered only
once committed, and `batch` of them go at once; a call runs on a thread while the loop goes on,
with the rows queued meanwhile committed after it; a failed commit fails its writes only; close
commits what is queued. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from tagtrail.errors import StoreError
from tagtrail.service.keys import ensure_workspace
from tagtrail.store.loop_writer import LoopWriter
from tagtrail.store.schema import events

COLUMNS = ("workspace_id", "message_id", "type", "timestamp", "received_at")
WHEN = datetime(2026, 5, 1, 12, 0, 0)


def _row(engine: Engine, message_id: str) -> tuple[Any, ...]:
    stamp: Any = WHEN.isoformat(" ", "microseconds") if engine.dialect.name == "sqlite" else WHEN
    return (1, message_id, "track", stamp, stamp)


def _stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        found = conn.execute(select(events.c.message_id).order_by(events.c.id)).scalars()
        return list(found)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def _writer(engine: Engine, **options: Any) -> LoopWriter:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    writer = LoopWriter(engine, **options)
    writer.start()
    return writer


def test_one_pass_is_one_commit_answered_once_stored(engine: Engine) -> None:
    writer = _writer(engine)
    seen_when_answered: list[int] = []

    async def click(number: int) -> None:
        await writer.write_row(events, COLUMNS, _row(engine, f"m{number}"))
        seen_when_answered.append(_count(engine))  # another connection sees it already

    async def main() -> int:
        try:
            clicks = [asyncio.ensure_future(click(n)) for n in range(200)]
            await asyncio.sleep(0)  # one pass: every click queues its row
            assert writer.committed == 0  # nothing is answered before the end of the pass
            await asyncio.gather(*clicks)
            return writer.committed
        finally:
            await writer.close()

    assert asyncio.run(main()) == 200
    assert seen_when_answered == [200] * 200  # one commit held them all
    assert sorted(_stored(engine)) == sorted(f"m{n}" for n in range(200))


def test_batch_writes_go_at_once(engine: Engine) -> None:
    writer = _writer(engine, batch=4)

    async def main() -> int:
        try:
            pending = [writer.write_row(events, COLUMNS, _row(engine, f"b{n}")) for n in range(10)]
            during = writer.committed  # the 4th and 8th queued committed them, in this pass
            await asyncio.gather(*pending)
            return during
        finally:
            await writer.close()

    assert asyncio.run(main()) == 8
    assert _count(engine) == 10


def slow_call(engine: Engine, started: threading.Event, seconds: float) -> tuple[int, str]:
    """A service write that takes a while: what it sees, and the thread it ran on."""
    started.set()
    time.sleep(seconds)
    with engine.connect() as conn:
        seen = int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    return seen, threading.current_thread().name


def test_a_call_runs_on_a_thread_between_two_commits(engine: Engine) -> None:
    writer = _writer(engine)
    started = threading.Event()

    async def main() -> tuple[tuple[int, str], float, list[str]]:
        try:
            before = writer.write_row(events, COLUMNS, _row(engine, "before"))
            call = asyncio.ensure_future(writer.call(slow_call, started, 0.3))
            await before
            while not started.is_set():
                await asyncio.sleep(0.001)
            ticked = time.monotonic()
            await asyncio.sleep(0.01)  # the loop is free while the call runs
            free_after = time.monotonic() - ticked
            after = writer.write_row(events, COLUMNS, _row(engine, "after"))
            await asyncio.sleep(0.05)
            held = _stored(engine)  # the row queued during the call waits for its end
            result = await call
            await after
            return result, free_after, held
        finally:
            await writer.close()

    (seen, thread), free_after, held = asyncio.run(main())
    assert seen == 1  # it ran after the row queued before it was committed
    assert thread.startswith("tagtrail-call")
    assert free_after < 0.2
    assert held == ["before"]
    assert _stored(engine) == ["before", "after"]


def test_a_failed_commit_fails_its_writes_and_the_next_goes_on(engine: Engine) -> None:
    writer = _writer(engine)

    async def main() -> BaseException | None:
        try:
            broken = {"workspace_id": 1, "message_id": "no-type", "timestamp": WHEN}
            failed = await asyncio.gather(writer.insert(events, broken), return_exceptions=True)
            await writer.write_row(events, COLUMNS, _row(engine, "next"))
            error = failed[0]
            return error if isinstance(error, BaseException) else None
        finally:
            await writer.close()

    error = asyncio.run(main())
    assert isinstance(error, StoreError)
    assert _stored(engine) == ["next"]


def test_close_commits_what_is_queued(engine: Engine) -> None:
    writer = _writer(engine)

    async def main() -> bool:
        pending = writer.write_row(events, COLUMNS, _row(engine, "last"))
        await writer.close()
        return asyncio.ensure_future(pending).done()

    assert asyncio.run(main())
    assert _stored(engine) == ["last"]
