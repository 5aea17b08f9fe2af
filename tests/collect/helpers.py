"""Small builders shared by the collect tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tagtrail.collect import NormalizedEvent, Touchpoint, normalize, parse_event
from tagtrail.collect.schema import EventType

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SITE = ("shop.example",)


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, days=days)


def page(
    url: str,
    referrer: str | None = None,
    *,
    when: datetime = T0,
    anon: str | None = "a1",
    user: str | None = None,
    mid: str | None = None,
) -> NormalizedEvent:
    body: dict[str, Any] = {
        "anonymousId": anon,
        "userId": user,
        "messageId": mid,
        "timestamp": when.isoformat(),
        "context": {"page": {"url": url, "referrer": referrer}},
    }
    return normalize(parse_event(body, kind="page"), received_at=when, site_hosts=SITE)


def event(kind: EventType, when: datetime = T0, **fields: Any) -> NormalizedEvent:
    body = {"timestamp": when.isoformat(), **fields}
    return normalize(parse_event(body, kind=kind), received_at=when, site_hosts=SITE)


def touch(
    mid: str,
    when: datetime,
    channel: str = "Email",
    source: str = "newsletter",
    medium: str = "email",
    campaign: str = "spring",
    *,
    kind: str = "page",
    referrer: str | None = None,
) -> Touchpoint:
    if channel == "Direct":
        source, medium, campaign = "(direct)", "(none)", "(direct)"
    return Touchpoint(
        message_id=mid,
        timestamp=when,
        kind=kind,  # type: ignore[arg-type]
        source=source,
        medium=medium,
        campaign=campaign,
        content=None,
        term=None,
        channel=channel,
        referrer=referrer,
    )
