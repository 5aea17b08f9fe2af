"""The dashboard's figures drawn from the collected journeys — conversions per period, credit per
campaign, link and channel (`insights.engine_insights`), the model comparison
(`insights.model_comparison`) — computed in the engine over the store, once per version of the
store's collected data, in a helper process (`worker.py`).

No snapshot of Python objects is held: the journeys are built in DuckDB from the store
(`service.journeys`) once per version and kept in the helper until the store moves, every
figure of that version is a query over them, and only the figure (small) comes back. A build
for a newer version reads only the rows added since (`collected_journeys(since=...)`). So:

- a page reads the store's journeys version (the largest ids of events, touchpoints, identity
  facts and clicks — a human click is a touchpoint — the workspace's goals and the `journeys`
  counter bumped when rows are removed or re-flagged: one small query); when it is ahead of the
  figure's, the figure is computed again;
- the page waits up to `WAIT` for it when it should take no longer (the workspace's last
  figure's time; before the first, its collected rows at `ROWS_PER_SECOND`), or up to `FIRST`
  when there is nothing to show yet and it should take no longer than that, plus `STARTUP`
  while the helper process starts (sign-in begins it); so a small store is always shown
  current; else the last figure computed is shown at once with a note saying how old it is,
  or, before the first, that it is being computed;
- one computation per figure at a time: a store that never stops changing is computed again
  as soon as the last one ends, only while pages ask for it.

The helper runs one call at a time; the Python parts of a build (the traffic source of each
distinct click landing, the Arrow tables) never hold the server's GIL. A profile reads its own
identity's rows through the stored mapping instead (`collected.user_journey`). `tagtrail report`
passes `wait=None`: the figure is computed in its own process, waiting as long as it takes.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from tagtrail.service.insights import engine_insights, model_comparison
from tagtrail.service.journeys import SPANNED, Journeys, collected_journeys
from tagtrail.service.worker import Worker
from tagtrail.settings import Settings
from tagtrail.store.database import create_engine_for
from tagtrail.store.schema import goals

logger = logging.getLogger(__name__)
WAIT = 0.25
STARTUP = 5.0  # what a page may also wait for the helper process to start, or for a first figure
FIRST = 2.0  # a first figure is waited for (so long) when it should take at most this
ROWS_PER_SECOND = 100_000.0  # a build's speed on this project's 2-core machines, before the first
KEPT = 64  # figures remembered (per store, workspace, session settings and key)
# A version: the largest ids of the collected tables (a human click is a touchpoint), the
# `journeys` counter, then the workspace's goals.
_COLLECTED = ("events", "touchpoints", "identity_facts", "clicks")
_LARGEST = "SELECT coalesce(max(id), 0) FROM {}"
_JOURNEYS = "SELECT version FROM settings_versions WHERE name = 'journeys'"
_IDS = len(_COLLECTED)
_WORKER = Worker("tagtrail-journeys")

#: (what, window): ("insights", Window) or ("models", Window).
Key = tuple[str, Any]


@dataclass(slots=True)
class Figure:
    """What a page gets: the figure (None before the first), whether it is of the store's
    current version, and when the data it shows was read."""

    value: Any | None
    fresh: bool
    as_of: datetime | None

    def note(self) -> str | None:
        if self.as_of is None:
            return "Conversions and journeys are being computed: reload in a moment."
        if self.fresh:
            return None
        age = int((datetime.now(UTC) - self.as_of).total_seconds())
        when = self.as_of.strftime("%H:%M:%S")
        return f"Conversions and journeys as of {when} UTC ({age} s ago); newer data is being read."


@dataclass(slots=True)
class _Held:
    version: tuple[Any, ...]
    as_of: datetime
    future: Future[tuple[Any, float]]  # the figure and the seconds it took
    previous: tuple[Any, datetime] | None  # the last figure computed and its time, shown meanwhile


_HELD: dict[tuple[Any, ...], _Held] = {}
_TOOK: dict[tuple[Any, ...], float] = {}  # (store, workspace) → seconds a figure takes (last)
_LOCK = threading.Lock()


def version(engine: Engine, workspace_id: int, *, settle: bool = False) -> tuple[Any, ...]:
    """What changes whenever the workspace's collected data can have changed.

    `settle` (PostgreSQL only): each table's largest id is read under `LOCK TABLE ... IN SHARE
    MODE`, so every row of a smaller id is committed. One table per transaction: a lock on all
    of them at once could deadlock with a writer that commits a click and an event in one
    transaction, taking the tables in its own order."""
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


def compute(engine: Engine, workspace_id: int, minutes: float, split: bool, key: Key) -> Any:
    """The figure `key` names, from the store now."""
    journeys = _journeys(engine, workspace_id, minutes, split)
    what, window = key
    if what == "models":
        return model_comparison(journeys, window)
    return engine_insights(journeys, window)


# The journeys last built (one build at a time is kept): its store, workspace and settings, the
# version it was built at, and what closes it.
_BUILT: dict[tuple[Any, ...], tuple[tuple[Any, ...], Journeys, ExitStack]] = {}
_BUILDS = {"count": 0, "seconds": 0.0}  # builds made in this process, and the last one's time


def _journeys(engine: Engine, workspace_id: int, minutes: float, split: bool) -> Journeys:
    """The workspace's journeys at the store's current version, built again only when the store
    has moved. On PostgreSQL the version is read settled (`version(settle=True)`): the rows of
    ids up to each table's largest are committed, so the build misses none that it names."""
    now = version(engine, workspace_id, settle=True)
    key = (_url(engine), workspace_id, minutes, split)
    held = _BUILT.get(key)
    if held is not None and held[0] == now:
        return held[1]
    since = held[1].rows if held is not None and _added_to(held[0], now) else None
    for _, _, closing in _BUILT.values():
        closing.close()
    _BUILT.clear()
    stack, started = ExitStack(), time.monotonic()
    journeys = stack.enter_context(
        collected_journeys(
            engine, workspace_id, timeout=timedelta(minutes=minutes),
            new_session_on_campaign_change=split, upto=_upto(now), since=since,
        )
    )  # fmt: skip
    _BUILT[key] = (now, journeys, stack)
    _BUILDS["count"] += 1
    _BUILDS["seconds"] = time.monotonic() - started
    return journeys


def _upto(held: tuple[Any, ...]) -> tuple[int, ...]:
    """The largest ids of the events, touchpoints and clicks a version names."""
    return tuple(int(held[_COLLECTED.index(t.name)]) for t in SPANNED)


def _added_to(before: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    """Whether the store has only been added to between two versions: the same `journeys`
    counter and goals, no largest id smaller (so only the rows after `before`'s are new in
    the tables `SPANNED`; the others are read whole)."""
    same = before[_IDS:] == now[_IDS:]
    return same and all(int(b) <= int(n) for b, n in zip(before[:_IDS], now[:_IDS], strict=True))


# --- in the helper process -------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}


def _held_compute(
    url: str, workspace_id: int, minutes: float, split: bool, key: Key
) -> tuple[Any, float]:
    """The figure, and the seconds it takes here once the store has moved (its query and the
    last build of the journeys)."""
    started, builds = time.monotonic(), _BUILDS["count"]
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = create_engine_for(url)
    value = compute(engine, workspace_id, minutes, split, key)
    seconds = time.monotonic() - started
    if _BUILDS["count"] == builds:  # the journeys were already built: add what that took
        seconds += float(_BUILDS["seconds"])
    return value, seconds


def _ready() -> bool:
    return True


# --- in the server ---------------------------------------------------------------------------


def warm() -> None:
    """Start the helper process ahead of the first page (at sign-in)."""
    _WORKER.warm(_ready)


def _settings_key(settings: Settings) -> tuple[float, bool]:
    return settings.session_timeout_minutes, settings.session_on_campaign_change


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def figure(
    engine: Engine, workspace_id: int, settings: Settings, key: Key, *, wait: float | None = WAIT
) -> Figure:
    """The figure `key` of the store's current version if it is ready within `wait` seconds,
    else the last one computed (`wait=None`: computed here, now)."""
    minutes, split = _settings_key(settings)
    if wait is None:
        as_of = datetime.now(UTC)
        return Figure(compute(engine, workspace_id, minutes, split, key), True, as_of)
    now_version = version(engine, workspace_id)
    held_key = (_url(engine), workspace_id, minutes, split, key)
    with _LOCK:
        held = _HELD.get(held_key)
        if held is None or (held.future.done() and (
            held.version != now_version or held.future.exception() is not None
        )):  # fmt: skip
            previous = None if held is None else held.previous
            if held is not None and held.future.exception() is None:
                previous = (held.future.result()[0], held.as_of)
            future = _WORKER.submit(_held_compute, *held_key)
            held = _HELD[held_key] = _Held(now_version, datetime.now(UTC), future, previous)
            while len(_HELD) > KEPT:
                del _HELD[next(iter(_HELD))]
        took = _TOOK.get(held_key[:2])
    # How long the figure should take: the workspace's last one, or its collected rows' count.
    expected = float(sum(now_version[:_IDS])) / ROWS_PER_SECOND if took is None else took
    if held.previous is None:  # nothing to show: a small store is waited for
        wait = wait + FIRST if expected <= FIRST else 0.0
    elif expected > wait:
        wait = 0.0  # longer than a page may wait: the last figure at once
    if wait > 0 and not _WORKER.answering.is_set():
        wait += STARTUP  # the helper process is still starting (a fresh server)
    try:
        value, seconds = held.future.result(timeout=wait)
    except FutureTimeout:
        return _previous(held)
    except Exception as exc:  # noqa: BLE001 - shown as not current; the next page tries again
        logger.error("could not compute the dashboard's %s: %s", key[0], exc)
        return _previous(held)
    with _LOCK:
        _TOOK[held_key[:2]] = seconds
    return Figure(value, held.version == now_version, held.as_of)


def _previous(held: _Held) -> Figure:
    if held.previous is None:
        return Figure(None, False, None)
    value, as_of = held.previous
    return Figure(value, False, as_of)
