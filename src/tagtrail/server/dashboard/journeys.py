"""The collected journeys the dashboard draws, as one snapshot per workspace in the process,
refreshed in a background thread.

Reading a workspace's journeys resolves its identity graph and sessions from every collected row
(`tagtrail.service.journeys.load_collected`): about 30 s with a million clicks, since each human
click is a touchpoint. So a page never waits for that beyond `WAIT`:

- each page reads the snapshot's version (the largest ids of events, touchpoints and identity
  facts, the workspace's goals and the `journeys` counter bumped when rows are removed: one
  small query); when the store is ahead, one refresh starts in the `tagtrail-journeys` thread
  (on PostgreSQL its version is read under `LOCK TABLE ... IN SHARE MODE`, so no row committed
  later can have a smaller id);
- the page waits up to `WAIT` for it when the last load took less than that (a small store is
  thus always shown fresh), else not at all: it shows the last snapshot and says how old it is,
  or, before the first, that it is being computed;
- the figures drawn from a snapshot (`derived`: conversions per window, the model comparison)
  are computed once per snapshot and key, in the same thread, with the same bounded wait;
- a refresh starts at the earliest twice its last duration after the previous one began, so a
  store that never stops changing costs at most a third of one core.

`tagtrail report` passes `wait=None`: it waits for everything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from tagtrail.service.journeys import Collected, load_collected
from tagtrail.settings import Settings
from tagtrail.store.schema import goals

logger = logging.getLogger(__name__)
WAIT = 0.25
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagtrail-journeys")


@dataclass(slots=True)
class Snapshot:
    collected: Collected
    version: tuple[Any, ...]
    as_of: datetime
    seconds: float
    derived: dict[Hashable, Future[Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Current:
    """What a page gets: the snapshot (None before the first) and whether it is up to date."""

    snapshot: Snapshot | None
    fresh: bool

    def note(self) -> str | None:
        if self.snapshot is None:
            return "Conversions and journeys are being computed: reload in a moment."
        if self.fresh:
            return None
        age = int((datetime.now(UTC) - self.snapshot.as_of).total_seconds())
        when = self.snapshot.as_of.strftime("%H:%M:%S")
        return f"Conversions and journeys as of {when} UTC ({age} s ago); newer data is being read."


@dataclass(slots=True)
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    snapshot: Snapshot | None = None
    loading: Future[Snapshot] | None = None
    not_before: float = 0.0


_SLOTS: dict[tuple[Any, ...], _Slot] = {}
_SLOTS_LOCK = threading.Lock()


def version(engine: Engine, workspace_id: int, *, settle: bool = False) -> tuple[Any, ...]:
    """What changes whenever the workspace's collected data can have changed."""
    with engine.connect() as conn:
        if settle and engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE events, touchpoints, identity_facts IN SHARE MODE"))
        ids = conn.execute(
            text(
                "SELECT (SELECT coalesce(max(id), 0) FROM events), "
                "(SELECT coalesce(max(id), 0) FROM touchpoints), "
                "(SELECT coalesce(max(id), 0) FROM identity_facts), "
                "(SELECT version FROM settings_versions WHERE name = 'journeys')"
            )
        ).one()
        goal_rows = conn.execute(
            select(goals.c.event, goals.c.revenue)
            .where(goals.c.workspace_id == workspace_id)
            .order_by(goals.c.id)
        ).all()
    return (*ids, *(tuple(r) for r in goal_rows))


def _load(engine: Engine, workspace_id: int, settings: Settings) -> Snapshot:
    started = time.monotonic()
    at = datetime.now(UTC)
    found_version = version(engine, workspace_id, settle=True)
    collected = load_collected(
        engine,
        workspace_id,
        timeout=timedelta(minutes=settings.session_timeout_minutes),
        new_session_on_campaign_change=settings.session_on_campaign_change,
    )
    return Snapshot(collected, found_version, at, time.monotonic() - started)


def _slot(engine: Engine, workspace_id: int, settings: Settings) -> _Slot:
    key = (
        id(engine),
        workspace_id,
        settings.session_timeout_minutes,
        settings.session_on_campaign_change,
    )
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(key, _Slot())


def current(
    engine: Engine, workspace_id: int, settings: Settings, *, wait: float | None = WAIT
) -> Current:
    """The freshest snapshot to be had within `wait` seconds (None: as long as it takes)."""
    slot = _slot(engine, workspace_id, settings)
    now_version = version(engine, workspace_id)
    with slot.lock:
        have = slot.snapshot
        behind = have is None or have.version != now_version
        if behind and slot.loading is None and time.monotonic() >= slot.not_before:
            slot.loading = _POOL.submit(_load, engine, workspace_id, settings)
            slot.loading.add_done_callback(lambda done: _loaded(slot, done))
        loading = slot.loading
    if have is not None and wait is not None and have.seconds > wait:
        wait = 0.0  # the last load took longer than a page may wait: show it at once
    if loading is not None and behind:
        try:
            got = loading.result(timeout=wait)
        except FutureTimeout:
            return Current(have, False)
        return Current(got, _covers(got.version, now_version))
    return Current(have, not behind)


def _covers(got: tuple[Any, ...], seen: tuple[Any, ...]) -> bool:
    """A snapshot of version `got` holds everything of version `seen` (ids only grow)."""
    return got[4:] == seen[4:] and all(a >= b for a, b in zip(got[:4], seen[:4], strict=True))


def _loaded(slot: _Slot, done: Future[Snapshot]) -> None:
    with slot.lock:
        slot.loading = None
        error = done.exception()
        if error is not None:
            logger.error("could not read the collected journeys: %s", error)
            slot.not_before = time.monotonic() + 5.0
            return
        snapshot = done.result()
        slot.snapshot = snapshot
        slot.not_before = time.monotonic() + snapshot.seconds  # begun 1 duration ago: 2x apart


def derived(
    snapshot: Snapshot,
    key: Hashable,
    compute: Callable[[Collected], Any],
    *,
    wait: float | None = WAIT,
) -> Any | None:
    """`compute(snapshot.collected)`, computed once per snapshot and key in the journeys thread;
    None if it is not ready within `wait` seconds."""
    with _SLOTS_LOCK:
        future = snapshot.derived.get(key)
        if future is None:
            future = snapshot.derived[key] = _POOL.submit(compute, snapshot.collected)
    try:
        return future.result(timeout=wait)
    except FutureTimeout:
        return None


def forget() -> None:
    """Drop every snapshot (tests that reuse an engine id)."""
    with _SLOTS_LOCK:
        _SLOTS.clear()
