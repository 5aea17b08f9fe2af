"""The collected journeys the dashboard draws: one snapshot per workspace, held and refreshed in
a helper process (`worker.py`), and the figures drawn from it.

Reading a workspace's journeys resolves its identity graph and sessions from every collected row
(`tagtrail.service.collected.load_collected`): about 30 s with a million clicks, since each human
click is a touchpoint. So a page never waits for that beyond `WAIT`:

- each page reads the store's journeys version (the largest ids of events, touchpoints, identity
  facts and clicks — a human click is a touchpoint — the workspace's goals and the `journeys`
  counter bumped when rows are removed or re-flagged: one small query); when it is ahead of the
  snapshot's, the helper process reloads (on PostgreSQL it reads each largest id under `LOCK
  TABLE ... IN SHARE MODE`, so no row committed later can have a smaller id);
- the page waits up to `WAIT` for it when the load should take less than that (the last load's
  time; before the first, the collected rows at `ROWS_PER_SECOND`; plus up to `STARTUP` while
  the helper process starts, which sign-in begins), so a small store is always shown fresh;
  else it shows the last snapshot at once and says how old it is, or, before the first, that
  it is being computed;
- the figures drawn from a snapshot (conversions per period, the model comparison; a profile
  reads its own identity's rows through the stored mapping instead, `collected.user_journey`)
  are computed in the helper process once per snapshot and key, with the same bounded wait, and
  only they (small) come back to the server;
- a reload starts at the earliest twice its last duration after the previous one began, so a
  store that never stops changing costs at most a third of one core.

The helper runs one call at a time, so a reload and the figures queue behind each other; its
Python never holds the server's GIL. `tagtrail report` passes `wait=None`: everything is then
computed in its own process, waiting as long as it takes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select, text

from tagtrail.service.collected import Collected, load_collected
from tagtrail.service.insights import insights, model_comparison
from tagtrail.service.worker import Worker
from tagtrail.settings import Settings
from tagtrail.store.database import create_engine_for
from tagtrail.store.schema import goals

logger = logging.getLogger(__name__)
WAIT = 0.25
STARTUP = 5.0  # what a small store's page may also wait for the helper process to start
ROWS_PER_SECOND = 30_000.0  # load_collected on this project's 2-core machines
# A version: the largest ids of the collected tables (`_IDS` of them: the rows a load reads; a
# human click is a touchpoint), the `journeys` counter (the first `_COUNTERS` only grow), then the
# workspace's goals.
_COLLECTED = ("events", "touchpoints", "identity_facts", "clicks")
_LARGEST = "SELECT coalesce(max(id), 0) FROM {}"
_JOURNEYS = "SELECT version FROM settings_versions WHERE name = 'journeys'"
_IDS = len(_COLLECTED)
_COUNTERS = _IDS + 1
_WORKER = Worker("tagtrail-journeys")

#: (what, argument): ("insights", Window). The model comparison needs no snapshot: `models`
#: builds its journeys in the engine.
Key = tuple[str, Any]


@dataclass(slots=True)
class Snapshot:
    version: tuple[Any, ...]
    as_of: datetime
    seconds: float
    local: Collected | None = None  # held here (wait=None), not in the helper process
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


_SLOTS: WeakKeyDictionary[Engine, dict[tuple[Any, ...], _Slot]] = WeakKeyDictionary()
_SLOTS_LOCK = threading.Lock()


def version(engine: Engine, workspace_id: int, *, settle: bool = False) -> tuple[Any, ...]:
    """What changes whenever the workspace's collected data can have changed.

    `settle` (the helper, before a load; PostgreSQL only): each table's largest id is read under
    `LOCK TABLE ... IN SHARE MODE`, so every row of a smaller id is committed. One table per
    transaction: a lock on all of them at once could deadlock with a writer that commits a click
    and an event in one transaction, taking the tables in its own order."""
    with engine.connect() as conn:
        if settle and engine.dialect.name == "postgresql":
            ids: list[Any] = []
            for table in _COLLECTED:
                with conn.begin():
                    conn.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
                    ids.append(conn.execute(text(_LARGEST.format(table))).scalar_one())
            ids.append(conn.execute(text(f"SELECT ({_JOURNEYS})")).scalar_one())
        else:
            largest = ", ".join(f"({_LARGEST.format(table)})" for table in _COLLECTED)
            ids = list(conn.execute(text(f"SELECT {largest}, ({_JOURNEYS})")).one())
        goal_rows = conn.execute(
            select(goals.c.event, goals.c.revenue)
            .where(goals.c.workspace_id == workspace_id)
            .order_by(goals.c.id)
        ).all()
    return (*ids, *(tuple(r) for r in goal_rows))


# --- in the helper process -------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_HELD: dict[tuple[Any, ...], tuple[tuple[Any, ...], Collected]] = {}


def _read(engine: Engine, workspace_id: int, minutes: float, split: bool) -> tuple[Any, ...]:
    found = version(engine, workspace_id, settle=True)
    collected = load_collected(
        engine,
        workspace_id,
        timeout=timedelta(minutes=minutes),
        new_session_on_campaign_change=split,
    )
    return found, collected


def _held_load(url: str, workspace_id: int, minutes: float, split: bool) -> Snapshot:
    started, at = time.monotonic(), datetime.now(UTC)
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = create_engine_for(url)
    found, collected = _read(engine, workspace_id, minutes, split)
    _HELD[(url, workspace_id, minutes, split)] = (found, collected)
    return Snapshot(found, at, time.monotonic() - started)


def _held_compute(url: str, workspace_id: int, minutes: float, split: bool, key: Key) -> Any:
    held = _HELD.get((url, workspace_id, minutes, split))
    if held is None:  # the helper was restarted: read again
        _held_load(url, workspace_id, minutes, split)
        held = _HELD[(url, workspace_id, minutes, split)]
    return compute(held[1], key)


def compute(collected: Collected, key: Key) -> Any:
    """The figure `key` names, from `collected`."""
    return insights(collected, key[1])


# --- in the server ---------------------------------------------------------------------------


def _ready() -> bool:
    return True


def warm() -> None:
    """Start the helper process ahead of the first page (at sign-in)."""
    _WORKER.warm(_ready)


def _settings_key(settings: Settings) -> tuple[float, bool]:
    return settings.session_timeout_minutes, settings.session_on_campaign_change


def _slot(engine: Engine, workspace_id: int, settings: Settings) -> _Slot:
    key = (workspace_id, *_settings_key(settings))
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(engine, {}).setdefault(key, _Slot())


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def current(
    engine: Engine, workspace_id: int, settings: Settings, *, wait: float | None = WAIT
) -> Current:
    """The freshest snapshot to be had within `wait` seconds (None: read it here, now)."""
    if wait is None:
        started, at = time.monotonic(), datetime.now(UTC)
        found, collected = _read(engine, workspace_id, *_settings_key(settings))
        return Current(Snapshot(found, at, time.monotonic() - started, collected), True)
    slot = _slot(engine, workspace_id, settings)
    now_version = version(engine, workspace_id)
    with slot.lock:
        have = slot.snapshot
        behind = have is None or have.version != now_version
        if behind and slot.loading is None and time.monotonic() >= slot.not_before:
            args = (_url(engine), workspace_id, *_settings_key(settings))
            slot.loading = _WORKER.submit(_held_load, *args)
            slot.loading.add_done_callback(lambda done: _loaded(slot, done))
        loading = slot.loading
    if _expected_seconds(have, now_version) > wait:
        wait = 0.0  # the load takes longer than a page may wait: answer at once
    elif not _WORKER.answering.is_set():
        wait += STARTUP  # the helper process is still starting (a fresh server)
    if loading is not None and behind:
        try:
            got = loading.result(timeout=wait)
        except FutureTimeout:
            return Current(have, False)
        return Current(got, _covers(got.version, now_version))
    return Current(have, not behind)


def _expected_seconds(have: Snapshot | None, now_version: tuple[Any, ...]) -> float:
    """How long a load should take: the last one's time, or before the first, the collected
    rows (their largest ids) at `ROWS_PER_SECOND`."""
    if have is not None:
        return have.seconds
    return float(sum(now_version[:_IDS])) / ROWS_PER_SECOND


def _covers(got: tuple[Any, ...], seen: tuple[Any, ...]) -> bool:
    """A snapshot of version `got` holds everything of version `seen` (ids only grow)."""
    grown = zip(got[:_COUNTERS], seen[:_COUNTERS], strict=True)
    return got[_COUNTERS:] == seen[_COUNTERS:] and all(a >= b for a, b in grown)


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
    engine: Engine,
    workspace_id: int,
    settings: Settings,
    snapshot: Snapshot,
    key: Key,
    *,
    wait: float | None = WAIT,
) -> Any | None:
    """`compute(key)` over the snapshot, computed once per snapshot and key (in the helper
    process unless the snapshot is held here); None if not ready within `wait` seconds."""
    if snapshot.local is not None:
        return compute(snapshot.local, key)
    with _SLOTS_LOCK:
        future = snapshot.derived.get(key)
        if future is None or (future.done() and future.exception() is not None):
            args = (_url(engine), workspace_id, *_settings_key(settings), key)
            future = snapshot.derived[key] = _WORKER.submit(_held_compute, *args)
    try:
        return future.result(timeout=wait)
    except FutureTimeout:
        return None


# --- the model comparison, built in the engine over the store (no snapshot) ------------------


@dataclass(slots=True)
class _Models:
    version: tuple[Any, ...]
    future: Future[dict[str, Any]]
    previous: dict[str, Any] | None  # the last document computed, shown while this one runs


_MODELS: dict[tuple[Any, ...], _Models] = {}


def _held_models(url: str, workspace_id: int, minutes: float, split: bool, window: Any) -> Any:
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = create_engine_for(url)
    return _models_of(engine, workspace_id, minutes, split, window)


def models(
    engine: Engine, workspace_id: int, settings: Settings, window: Any, *, wait: float | None = WAIT
) -> tuple[dict[str, Any] | None, bool]:
    """The model comparison of `window` (`model_comparison`: the journeys built in the
    engine, no snapshot of the workspace) and whether it is of the store's current version.
    Computed in the helper process once per version, with the same bounded wait (plus `STARTUP`
    when there is nothing to show yet); meanwhile the last one computed is shown (None before
    the first). `wait=None`: here, now."""
    minutes, split = _settings_key(settings)
    if wait is None:
        return _models_of(engine, workspace_id, minutes, split, window), True
    now_version = version(engine, workspace_id)
    key = (_url(engine), workspace_id, minutes, split, window)
    with _SLOTS_LOCK:
        held = _MODELS.get(key)
        if held is None or (held.version != now_version and held.future.done()):
            previous = held.previous if held is not None else None
            if held is not None and held.future.exception() is None:
                previous = held.future.result()
            future = _WORKER.submit(_held_models, *key)
            held = _MODELS[key] = _Models(now_version, future, previous)
    if held.previous is None or not _WORKER.answering.is_set():
        wait += STARTUP  # nothing to show yet, or the helper process is still starting
    try:
        return held.future.result(timeout=wait), held.version == now_version
    except FutureTimeout:
        return held.previous, False


def _models_of(
    engine: Engine, workspace_id: int, minutes: float, split: bool, window: Any
) -> dict[str, Any]:
    return model_comparison(
        engine,
        workspace_id,
        window,
        session_timeout=timedelta(minutes=minutes),
        new_session_on_campaign_change=split,
    )
