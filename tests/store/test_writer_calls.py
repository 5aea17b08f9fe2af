"""Service writes run on the writer (`Writes.call`) — the server process's writer thread, the
loop writer's call thread, the writer process — on SQLite and PostgreSQL: the result comes
back, a domain error comes back as itself (with its hint and a refused link's issues), a
driver error as a StoreError, and the call is committed once it is answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from tagtrail.errors import Conflict, InvalidLink, StoreError
from tagtrail.server.errors import domain_error
from tagtrail.service import campaigns, goals
from tagtrail.service import links as link_service
from tagtrail.service.keys import ensure_workspace
from tagtrail.store.journal import JournalClient, journal_process
from tagtrail.store.loop_writer import LoopWriter
from tagtrail.store.schema import events
from tagtrail.store.schema import goals as goals_table
from tagtrail.store.writer import WriteQueue, Writes

NOW = datetime(2026, 5, 1, 12, 0, 0)


def broken_write(engine: Engine) -> None:
    """A write the driver refuses (no such table)."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))


@asynccontextmanager
async def _writer(kind: str, engine: Engine, store_url: str) -> AsyncIterator[Writes]:
    if kind in ("thread", "loop"):
        local = (WriteQueue if kind == "thread" else LoopWriter)(engine, batch=64)
        local.start()
        try:
            yield local
        finally:
            await local.close()
        return
    with journal_process(
        store_url, sqlite_synchronous="FULL", batch=64, log_level="warning"
    ) as running:
        client = JournalClient(running.socket)
        await client.connect()
        try:
            yield client
        finally:
            await client.close()


def _run(
    kind: str, engine: Engine, store_url: str, body: Callable[[Writes], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        async with _writer(kind, engine, store_url) as writer:
            return await body(writer)

    return asyncio.run(main())


@pytest.mark.parametrize("kind", ["thread", "loop", "process"])
def test_a_call_returns_its_result_once_committed(
    kind: str, engine: Engine, store_url: str
) -> None:
    workspace, _ = ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))

    async def body(writer: Writes) -> Any:
        row = {"workspace_id": workspace, "message_id": "m1", "type": "track"}
        click_like = writer.insert(events, {**row, "timestamp": NOW, "received_at": NOW})
        goal = writer.call(goals.add_goal, workspace, "Order Completed", "revenue", now=NOW)
        return await asyncio.gather(click_like, goal)

    _, goal = _run(kind, engine, store_url, body)
    assert (goal.event, goal.revenue) == ("Order Completed", "revenue")
    with engine.connect() as conn:
        assert conn.execute(select(goals_table.c.event)).scalars().all() == ["Order Completed"]
        assert conn.execute(select(events.c.message_id)).scalars().all() == ["m1"]


@pytest.mark.parametrize("kind", ["thread", "loop", "process"])
def test_domain_errors_come_back_as_themselves(kind: str, engine: Engine, store_url: str) -> None:
    workspace, _ = ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    refused = link_service.LinkSpec(url="javascript:alert(1)", utm={"source": "a", "medium": "b"})

    async def body(writer: Writes) -> list[BaseException | Any]:
        made = await writer.call(campaigns.create_campaign, workspace, "spring", now=NOW)
        again = writer.call(campaigns.create_campaign, workspace, "spring", now=NOW)
        link = writer.call(link_service.create_link, workspace, refused, origin="http://x", now=NOW)
        broken = writer.call(broken_write)
        return [made, *await asyncio.gather(again, link, broken, return_exceptions=True)]

    made, again, link, broken = _run(kind, engine, store_url, body)
    assert made.name == "spring"
    assert isinstance(again, Conflict) and again.hint == "PATCH it to change its defaults"
    assert isinstance(link, InvalidLink) and link.issues is not None
    assert dict(link.issues.utm) == {"source": "a", "medium": "b"}
    assert type(broken) is StoreError and "try again" in str(broken.hint)


def test_a_store_error_is_a_503_with_retry_after() -> None:
    answer = domain_error(StoreError("the store could not commit the change"))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert "retry-after" not in domain_error(Conflict("taken")).headers
