"""The dashboard's journeys snapshot: read in the helper process, never waited for beyond the
page's limit, reloaded when the store moves, and equal to a direct read once current."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from tagtrail.collect import normalize, parse_event
from tagtrail.errors import NotFound
from tagtrail.service import snapshots as journeys
from tagtrail.service.collect import event_row
from tagtrail.service.collected import load_collected, user_journey
from tagtrail.service.goals import add_goal
from tagtrail.service.insights import insights
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.reports import Window
from tagtrail.settings import Settings
from tagtrail.store.database import prepare_store
from tagtrail.store.schema import events

NOW = datetime(2026, 5, 1, 12, 0)
PAGE = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = prepare_store(f"sqlite:///{tmp_path / 'tagtrail.db'}")
    yield made
    made.dispose()


def store_journey(
    engine: Engine, workspace: int, user: str, revenue: float, page: str = PAGE
) -> None:
    """A visit to `page`, an identify and an `Order Completed` worth `revenue`."""
    rows: list[dict[str, Any]] = []
    for kind, body in (
        ("page", {"anonymousId": f"a-{user}", "context": {"page": {"url": page}}}),
        ("identify", {"anonymousId": f"a-{user}", "userId": user}),
        ("track", {"userId": user, "event": "Order Completed", "properties": {"revenue": revenue}}),
    ):
        body = {**body, "messageId": f"{kind}-{user}", "timestamp": "2026-04-30T10:00:00Z"}
        event = normalize(parse_event(body, kind=kind), received_at=datetime.now(UTC))  # type: ignore[arg-type]
        rows.append(event_row(workspace, event))
    with engine.begin() as conn:
        conn.execute(insert(events), rows)


def _until_fresh(engine: Engine, workspace: int, settings: Settings) -> journeys.Current:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = journeys.current(engine, workspace, settings, wait=1.0)
        if now.fresh:
            return now
    raise AssertionError("the journeys snapshot never became current")


def _conversions(engine: Engine, workspace: int, settings: Settings, snap: Any) -> Any:
    key = ("insights", Window())
    return journeys.derived(engine, workspace, settings, snap, key, wait=60).conversions


def test_snapshot_follows_the_store_and_never_blocks_past_the_wait(engine: Engine) -> None:
    workspace, _ = ensure_workspace(engine, now=NOW)
    add_goal(engine, workspace, "Order Completed", "revenue", now=NOW)
    settings = Settings()
    store_journey(engine, workspace, "alice", 42)

    started = time.monotonic()
    cold = journeys.current(engine, workspace, settings, wait=0.0)
    assert time.monotonic() - started < 1.0
    assert cold.snapshot is None and not cold.fresh
    assert "being computed" in (cold.note() or "")

    first = _until_fresh(engine, workspace, settings)
    assert first.note() is None and first.snapshot is not None
    direct = insights(load_collected(engine, workspace), Window())
    assert _conversions(engine, workspace, settings, first.snapshot) == direct.conversions == 1

    store_journey(engine, workspace, "bob", 10)  # the store moves on: the old snapshot is behind
    behind = journeys.current(engine, workspace, settings, wait=0.0)
    assert behind.snapshot is first.snapshot and not behind.fresh
    assert "as of" in (behind.note() or "")

    second = _until_fresh(engine, workspace, settings)
    assert second.snapshot is not None and second.snapshot is not first.snapshot
    assert _conversions(engine, workspace, settings, second.snapshot) == 2
    # A profile reads its identity's own rows through the stored mapping, not the snapshot.
    profile = user_journey(engine, workspace, "bob")
    assert profile["profile"]["user_id"] == "bob" and len(profile["conversion_list"]) == 1
    with pytest.raises(NotFound, match="nobody"):
        user_journey(engine, workspace, "nobody")


def test_report_mode_reads_in_process(engine: Engine) -> None:
    workspace, _ = ensure_workspace(engine, now=NOW)
    add_goal(engine, workspace, "Order Completed", "revenue", now=NOW)
    store_journey(engine, workspace, "carol", 5)
    now = journeys.current(engine, workspace, Settings(), wait=None)
    assert now.fresh and now.snapshot is not None and now.snapshot.local is not None
    key = ("insights", Window())
    assert (
        journeys.derived(engine, workspace, Settings(), now.snapshot, key, wait=None).revenue == 5
    )
