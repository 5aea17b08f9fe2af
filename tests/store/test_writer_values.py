"""`WriteQueue.insert_values`: rows given as tuples, committed in as few statements as the
driver allows, duplicates ignored, mixed with mapping rows in one transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from tagtrail.service.keys import ensure_workspace
from tagtrail.store.schema import events
from tagtrail.store.writer import Values, WriteQueue

COLUMNS = ("workspace_id", "message_id", "type", "timestamp", "received_at")
WHEN = datetime(2026, 5, 1, 12, 0, 0, 250_000)


def _rows(engine: Engine, ids: list[str]) -> list[tuple[object, ...]]:
    stamp: object = WHEN.isoformat(" ", "microseconds") if engine.dialect.name == "sqlite" else WHEN
    return [(1, mid, "track", stamp, stamp) for mid in ids]


def _stored(engine: Engine) -> tuple[int, set[datetime]]:
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(events)).scalar_one()
        times = set(conn.execute(select(events.c.timestamp)).scalars())
    return int(count), times


def test_values_in_one_group_and_across_groups(engine: Engine) -> None:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    writer = WriteQueue(engine)
    writer.start()
    many = [f"m{i}" for i in range(15_000)]  # 75,000 parameters: over one statement's limit

    async def send() -> None:
        await asyncio.gather(
            writer.insert_values(events, Values(COLUMNS, _rows(engine, many[:14_000]))),
            writer.insert_values(events, Values(COLUMNS, _rows(engine, many[1_000:]))),
            writer.insert_values(events, Values(COLUMNS, _rows(engine, ["d", "d", "d"]))),
            writer.insert_values(events, Values(COLUMNS, [])),
            writer.insert_many(
                events,
                [
                    {
                        "workspace_id": 1,
                        "message_id": "as-a-mapping",
                        "type": "page",
                        "timestamp": WHEN,
                        "received_at": WHEN,
                    }
                ],
            ),
        )

    async def alone() -> None:  # one group of values only: one statement, no BEGIN
        await writer.insert_values(events, Values(COLUMNS, _rows(engine, ["x1", "x2", "x1"])))

    try:
        asyncio.run(send())
        asyncio.run(send())  # the same rows again: ignored
        asyncio.run(alone())
    finally:
        writer.stop()
    assert _stored(engine) == (15_004, {WHEN})
    assert writer.committed >= 3
