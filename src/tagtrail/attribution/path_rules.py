"""Path rules R1–R7 (DESIGN §7) as one pure function over the events of one or more users.

This is the reference definition of how events become paths. The DuckDB engine builds the same
paths in SQL (`duckdb_engine.py`); a test checks that both agree on random event sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

DAY = 86_400


@dataclass(frozen=True, slots=True)
class PathRules:
    """Every path rule as a setting; the defaults are DESIGN §7's R1–R7.

    - `lookback`: R3, seconds; a touch counts when `end - touch <= lookback` (inclusive, whole
      seconds). Also windows the non-converting tail back from its own last touch (R5).
    - `touch_types`: event types that become touches of a path (add `"exposure"` to let sends and
      impressions into paths; they always feed `billboard`).
    - `direct`: the label of the direct channel; a conversion with no touch gets `[direct]` (R4).
    - `collapse_repeats`: R7 keeps repeats (`a a b` is three touches); True keeps only the last
      (most recent) touch of each run of one channel.
    - `exposure_window` / `click_window`: `billboard`'s windows (24 h after a send or impression,
      3 days after a click), inclusive, whole seconds.
    - `half_life`: `time_decay`'s H in seconds (7 days, as GA, Adobe and Mixpanel).
    """

    lookback: int = 30 * DAY
    touch_types: tuple[str, ...] = ("touch",)
    direct: str = "direct"
    collapse_repeats: bool = False
    exposure_window: int = DAY
    click_window: int = 3 * DAY
    half_life: int = 7 * DAY


@dataclass(frozen=True, slots=True)
class Event:
    """One input row: `ts` in whole seconds since the epoch; `line` orders ties (file order)."""

    user: str
    ts: int
    type: str
    channel: str
    value: float = 0.0
    line: int = 0


@dataclass(frozen=True, slots=True)
class Path:
    """One path: its touches (channel, seconds before the path's end), outcome and value.

    A converting path ends at its conversion; a non-converting one at its own last touch.
    `filled` is True when R4 gave a touchless conversion the path `[direct]`.
    """

    user: str
    channels: tuple[str, ...]
    ages: tuple[int, ...]
    converted: bool
    value: float = 0.0
    filled: bool = False


def _order(event: Event) -> tuple[int, int, int]:
    # R1: by time; at equal times a touch sorts before a conversion; then file order.
    return (event.ts, 1 if event.type == "conversion" else 0, event.line)


def _window(touches: list[Event], end: int, rules: PathRules) -> list[Event]:
    kept = [t for t in touches if end - t.ts <= rules.lookback]
    if rules.collapse_repeats:
        kept = [list(run)[-1] for _, run in groupby(kept, key=lambda t: t.channel)]
    return kept


def user_paths(events: Iterable[Event], rules: PathRules | None = None) -> list[Path]:
    """The paths of ONE user's events (R1–R7), in time order."""
    rules = rules or PathRules()
    ordered = sorted(events, key=_order)
    paths: list[Path] = []
    pending: list[Event] = []
    for event in ordered:
        if event.type in rules.touch_types and event.type != "conversion":
            pending.append(event)
        elif event.type == "conversion":
            kept = _window(pending, event.ts, rules)
            if kept:
                paths.append(
                    Path(
                        event.user,
                        tuple(t.channel for t in kept),
                        tuple(event.ts - t.ts for t in kept),
                        True,
                        event.value,
                    )
                )
            else:
                paths.append(Path(event.user, (rules.direct,), (0,), True, event.value, True))
            pending = []  # R2: a touch is never reused by a later conversion
    if pending:
        end = max(t.ts for t in pending)
        kept = _window(pending, end, rules)
        paths.append(
            Path(
                pending[0].user,
                tuple(t.channel for t in kept),
                tuple(end - t.ts for t in kept),
                False,
            )
        )
    return paths


def build_paths(events: Iterable[Event], rules: PathRules | None = None) -> list[Path]:
    """Every user's paths (users in order of first appearance)."""
    by_user: dict[str, list[Event]] = {}
    for event in events:
        by_user.setdefault(event.user, []).append(event)
    return [path for user in by_user.values() for path in user_paths(user, rules)]
