"""Sessions of one identity: inactivity timeout, GA4's last-non-direct session source.

- Hits (events, with their touchpoint if any) are sorted by corrected event time, then message
  id, so the arrival order never matters; a repeated message id counts once (the earliest).
- A session is one device's visit (GA4 keeps sessions per device too): hits are split by
  `device` (the anonymous id; None for server-side events and short-link clicks, which form
  their own stream), and the streams' sessions are then ordered by start time for inheritance.
- Within a device, a new session starts at the first hit and whenever the gap since the previous
  hit is **at least** `timeout` (30 minutes by default): 29 min 59 s later is the same
  session, 30 min later a new one.
- With `new_session_on_campaign_change=True` (Universal Analytics' rule; GA4 does not do this),
  a non-direct touchpoint whose (source, medium, campaign, content, term) differs from the
  session's latest non-direct one — or that follows a direct start — also starts a session.
- The session's own source is its first non-direct touchpoint. A session without one inherits
  the latest non-direct touchpoint of an earlier session no more than `lookback` (90 days, GA4's
  longest window) before its start — GA4's session scope, "last non-direct click": a direct
  return visit keeps the campaign. With nothing to inherit, the session is Direct.
- `arrivals` gives the touchpoints that count for journeys: every non-direct one, and a direct
  one only when no touchpoint came before it in its session (a reload mid-visit is no arrival).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from tagtrail.collect.normalize import NormalizedEvent
from tagtrail.collect.touchpoints import DIRECT, Touchpoint

__all__ = [
    "LOOKBACK",
    "TIMEOUT",
    "Hit",
    "Session",
    "arrivals",
    "sessionize",
    "sessionize_all",
]

TIMEOUT: Final = timedelta(minutes=30)
LOOKBACK: Final = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Hit:
    """Anything an identity did at `timestamp`: an event, and its touchpoint when it is one."""

    timestamp: datetime
    message_id: str
    touchpoint: Touchpoint | None = None
    device: str | None = None  # the anonymous id: sessions never span two devices

    @classmethod
    def of(cls, event: NormalizedEvent, touchpoint: Touchpoint | None = None) -> Hit:
        return cls(event.timestamp, event.message_id, touchpoint, event.anonymous_id)

    @classmethod
    def of_touchpoint(cls, touchpoint: Touchpoint) -> Hit:
        """A hit for a touchpoint alone (a short-link click, or a page view without its event)."""
        return cls(touchpoint.timestamp, touchpoint.message_id, touchpoint, touchpoint.anonymous_id)


@dataclass(frozen=True, slots=True)
class Session:
    """One visit. `traffic` is the session-scope touch (own or inherited); None means Direct."""

    index: int
    start: datetime
    end: datetime
    message_ids: tuple[str, ...]
    touchpoints: tuple[Touchpoint, ...]
    traffic: Touchpoint | None
    inherited: bool

    @property
    def channel(self) -> str:
        return self.traffic.channel if self.traffic is not None else DIRECT

    @property
    def source(self) -> str:
        return self.traffic.source if self.traffic is not None else "(direct)"

    @property
    def medium(self) -> str:
        return self.traffic.medium if self.traffic is not None else "(none)"

    @property
    def campaign(self) -> str:
        return self.traffic.campaign if self.traffic is not None else "(direct)"


def _first_non_direct(touches: Iterable[Touchpoint]) -> Touchpoint | None:
    return next((t for t in touches if not t.is_direct), None)


def _groups(hits: Iterable[Hit], timeout: timedelta, on_campaign_change: bool) -> list[list[Hit]]:
    ordered = sorted(hits, key=lambda h: (h.timestamp, h.touchpoint is None, h.message_id))
    streams: dict[str | None, list[Hit]] = {}
    seen: set[str] = set()
    for hit in ordered:
        if hit.message_id not in seen:
            seen.add(hit.message_id)
            streams.setdefault(hit.device, []).append(hit)
    groups = [g for stream in streams.values() for g in _split(stream, timeout, on_campaign_change)]
    return sorted(groups, key=lambda g: (g[0].timestamp, g[0].message_id))


def _split(ordered: list[Hit], timeout: timedelta, on_campaign_change: bool) -> list[list[Hit]]:
    groups: list[list[Hit]] = []
    last: datetime | None = None
    key: tuple[object, ...] | None = None
    for hit in ordered:
        touch = hit.touchpoint
        fresh = last is None or hit.timestamp - last >= timeout
        if on_campaign_change and touch is not None and not touch.is_direct and groups:
            fresh = fresh or touch.key != key
        if fresh:
            groups.append([])
            key = None
        if touch is not None and not touch.is_direct:
            key = touch.key
        groups[-1].append(hit)
        last = hit.timestamp
    return groups


def sessionize(
    hits: Iterable[Hit],
    *,
    timeout: timedelta = TIMEOUT,
    lookback: timedelta = LOOKBACK,
    new_session_on_campaign_change: bool = False,
) -> tuple[Session, ...]:
    """The sessions of one identity's hits (any order), oldest first."""
    if timeout <= timedelta(0):
        raise ValueError("the session timeout must be positive")
    sessions: list[Session] = []
    previous: Touchpoint | None = None  # the latest non-direct touch of earlier sessions
    for index, group in enumerate(_groups(hits, timeout, new_session_on_campaign_change)):
        touches = tuple(h.touchpoint for h in group if h.touchpoint is not None)
        own = _first_non_direct(touches)
        start = group[0].timestamp
        inherited = own is None and previous is not None and start - previous.timestamp <= lookback
        traffic = own if own is not None else previous if inherited else None
        sessions.append(
            Session(
                index=index,
                start=start,
                end=group[-1].timestamp,
                message_ids=tuple(h.message_id for h in group),
                touchpoints=touches,
                traffic=traffic,
                inherited=inherited,
            )
        )
        previous = _first_non_direct(reversed(touches)) or previous
    return tuple(sessions)


def sessionize_all(
    hits: Mapping[str, Iterable[Hit]],
    *,
    timeout: timedelta = TIMEOUT,
    lookback: timedelta = LOOKBACK,
    new_session_on_campaign_change: bool = False,
) -> dict[str, tuple[Session, ...]]:
    """`sessionize` per identity (keys are canonical identity ids)."""
    return {
        identity: sessionize(
            items,
            timeout=timeout,
            lookback=lookback,
            new_session_on_campaign_change=new_session_on_campaign_change,
        )
        for identity, items in hits.items()
    }


def arrivals(sessions: Iterable[Session]) -> list[Touchpoint]:
    """The touchpoints that are arrivals: non-direct ones, and a direct one opening a session."""
    found: list[Touchpoint] = []
    for session in sessions:
        for position, touch in enumerate(session.touchpoints):
            if not touch.is_direct or position == 0:
                found.append(touch)
    return found
