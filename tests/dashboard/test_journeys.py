"""The dashboard's figures of the collected journeys: computed in the engine in the helper
process, never waited for beyond the page's limit, computed again when the store moves, and
equal to the from-scratch read once current."""

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
from tagtrail.service import figures
from tagtrail.service.collect import event_row
from tagtrail.service.collected import load_collected, user_journey
from tagtrail.service.goals import add_goal
from tagtrail.service.insights import Insights, insights
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


def _until_fresh(engine: Engine, workspace: int, key: figures.Key) -> figures.Figure:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = figures.figure(engine, workspace, Settings(), key, wait=1.0)
        if now.fresh:
            return now
    raise AssertionError("the dashboard's figure never became current")


INSIGHTS = ("insights", Window())


def test_figures_follow_the_store_and_never_block_past_the_wait(engine: Engine) -> None:
    workspace, _ = ensure_workspace(engine, now=NOW)
    add_goal(engine, workspace, "Order Completed", "revenue", now=NOW)
    store_journey(engine, workspace, "alice", 42)

    first = _until_fresh(engine, workspace, INSIGHTS)
    assert first.note() is None and first.as_of is not None
    direct = insights(load_collected(engine, workspace), Window())
    assert isinstance(first.value, Insights)
    assert first.value.conversions == direct.conversions == 1
    assert first.value.campaigns == direct.campaigns == {"spring": [1.0, 42.0]}

    store_journey(engine, workspace, "bob", 10)  # the store moves on: the figure is behind
    started = time.monotonic()
    behind = figures.figure(engine, workspace, Settings(), INSIGHTS, wait=0.0)
    assert time.monotonic() - started < 1.0
    assert not behind.fresh and behind.value is not None and behind.value.conversions == 1
    assert "as of" in (behind.note() or "")

    second = _until_fresh(engine, workspace, INSIGHTS)
    assert second.value.conversions == 2 and second.value.revenue == 52
    assert second.as_of is not None and second.as_of >= first.as_of
    models = _until_fresh(engine, workspace, ("models", Window()))
    assert models.value["meta"]["total_conversions"] == 2
    # A profile reads its identity's own rows through the stored mapping.
    profile = user_journey(engine, workspace, "bob")
    assert profile["profile"]["user_id"] == "bob" and len(profile["conversion_list"]) == 1
    with pytest.raises(NotFound, match="nobody"):
        user_journey(engine, workspace, "nobody")


def test_a_first_figure_not_ready_says_it_is_being_computed() -> None:
    pending = figures.Figure(None, False, None)
    assert "being computed" in (pending.note() or "")
    assert figures.Figure(1, True, datetime.now(UTC)).note() is None


def test_report_mode_computes_in_process(engine: Engine) -> None:
    workspace, _ = ensure_workspace(engine, now=NOW)
    add_goal(engine, workspace, "Order Completed", "revenue", now=NOW)
    store_journey(engine, workspace, "carol", 5)
    now = figures.figure(engine, workspace, Settings(), INSIGHTS, wait=None)
    assert now.fresh and now.value.revenue == 5
