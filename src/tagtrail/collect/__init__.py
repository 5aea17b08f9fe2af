"""Collection core (pure): Segment payloads, normalisation, touchpoints, sessions, identities,
profiles and journey rows. No database, no network, no clock: values in, frozen values out.

    >>> from datetime import datetime, timezone
    >>> event = parse_event({"anonymousId": "a1", "context": {"page": {
    ...     "url": "https://shop.example/?utm_source=newsletter&utm_medium=email"}}}, kind="page")
    >>> now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    >>> touchpoint_for(normalize(event, received_at=now)).channel
    'Email'

docs/collect.md describes the payloads and every rule; the server and the store call this.
"""

from __future__ import annotations

from tagtrail.collect.identity import (
    Conflict,
    IdentityFact,
    IdentityGraph,
    fact_of,
    resolve,
    verify_hint,
)
from tagtrail.collect.journey_rows import (
    JOURNEY_COLUMNS,
    Conversion,
    Goal,
    JourneyRow,
    best_goal,
    conversion_for,
    goal_value,
    journey_csv,
    journey_rows,
    value_text,
)
from tagtrail.collect.normalize import Campaign, NormalizedEvent, normalize
from tagtrail.collect.profiles import Profile, profile, profiles
from tagtrail.collect.schema import (
    EVENT_TYPES,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Batch,
    Event,
    EventType,
    check_size,
    parse_batch,
    parse_event,
)
from tagtrail.collect.sessions import Hit, Session, arrivals, sessionize, sessionize_all
from tagtrail.collect.touchpoints import (
    Touchpoint,
    click_touchpoint,
    drop_click_landings,
    touchpoint_for,
)

__all__ = [
    "EVENT_TYPES",
    "JOURNEY_COLUMNS",
    "MAX_BATCH_BYTES",
    "MAX_EVENT_BYTES",
    "Batch",
    "Campaign",
    "Conflict",
    "Conversion",
    "Event",
    "EventType",
    "Goal",
    "Hit",
    "IdentityFact",
    "IdentityGraph",
    "JourneyRow",
    "NormalizedEvent",
    "Profile",
    "Session",
    "Touchpoint",
    "arrivals",
    "best_goal",
    "check_size",
    "click_touchpoint",
    "conversion_for",
    "drop_click_landings",
    "fact_of",
    "goal_value",
    "journey_csv",
    "journey_rows",
    "normalize",
    "parse_batch",
    "parse_event",
    "profile",
    "profiles",
    "resolve",
    "sessionize",
    "sessionize_all",
    "touchpoint_for",
    "value_text",
    "verify_hint",
]
