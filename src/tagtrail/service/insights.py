"""Conversions, channels and attribution from the collected journeys (`load_collected`).

The model comparison is `service.attribution.store_attribution` on one goal, exactly what
`tagtrail attribute --goal` prints. Campaign and link columns credit each conversion to its last
non-direct arrival within the 30-day lookback after the previous conversion of the same goal
(the `last_non_direct` model's rule with R2 per goal), so the two pages agree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tagtrail.attribution.path_rules import PathRules
from tagtrail.collect.touchpoints import DIRECT
from tagtrail.service.attribution import (
    AttributionQuery,
    store_attribution,
)
from tagtrail.service.campaigns import touch_key
from tagtrail.service.collected import Collected
from tagtrail.service.goals import list_goals
from tagtrail.service.reports import Window

#: The models the comparison chart shows (docs/models.md defines each).
CHART_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
    "markov_o1",
    "shapley_simplified",
)
LOOKBACK = timedelta(days=30)


@dataclass(slots=True)
class Insights:
    by_day: dict[str, list[float]] = field(default_factory=dict)  # day → [conversions, revenue]
    conversions: int = 0
    revenue: float = 0.0
    campaigns: dict[str, list[float]] = field(default_factory=dict)  # campaign_key → [conv, rev]
    landings: list[tuple[str, float]] = field(default_factory=list)  # credited arrivals' URLs
    channels: dict[str, dict[str, float]] = field(default_factory=dict)


def insights(collected: Collected, window: Window) -> Insights:
    """Conversions per day, last-non-direct credit per campaign and per landing URL (for
    `link_credit`), arrivals per channel."""
    out = Insights()
    campaigns: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    channels: dict[str, dict[str, float]] = defaultdict(
        lambda: {"arrivals": 0.0, "people": 0.0, "conversions": 0.0, "revenue": 0.0}
    )
    for touches in collected.arrivals.values():
        seen: set[str] = set()
        for touch in touches:
            if window.contains(touch.timestamp):
                row = channels[touch.channel]
                row["arrivals"] += 1
                if touch.channel not in seen:
                    seen.add(touch.channel)
                    row["people"] += 1
    for who, converted in collected.conversions.items():
        touches = sorted(collected.arrivals.get(who, []), key=lambda t: t.timestamp)
        previous: dict[str, datetime] = {}  # goal → its last conversion's second (R2 per goal)
        for conv in sorted(converted, key=lambda c: c.timestamp):
            after = previous.get(conv.goal)
            previous[conv.goal] = _second(conv.timestamp)
            if not window.contains(conv.timestamp):
                continue
            value = float(conv.value)
            day = conv.timestamp.strftime("%Y-%m-%d")
            slot = out.by_day.setdefault(day, [0.0, 0.0])
            slot[0] += 1
            slot[1] += value
            out.conversions += 1
            out.revenue += value
            last = None
            for touch in touches:
                if _second(touch.timestamp) > _second(conv.timestamp):
                    break
                if after is not None and _second(touch.timestamp) <= after:
                    continue  # the previous conversion of this goal took it
                if conv.timestamp - touch.timestamp <= LOOKBACK and not touch.is_direct:
                    last = touch
            channel = channels[last.channel if last else DIRECT]  # one spelling: "Direct"
            channel["conversions"] += 1
            channel["revenue"] += value
            if last is None:
                continue
            if last.campaign and last.campaign != "(not set)":
                key = touch_key(last.campaign)
                campaigns[key][0] += 1
                campaigns[key][1] += value
            if last.url:
                out.landings.append((last.url, value))
    out.by_day = dict(sorted(out.by_day.items()))
    out.campaigns = dict(campaigns)
    out.channels = dict(sorted(channels.items(), key=lambda kv: -kv[1]["arrivals"]))
    return out


def _second(when: datetime) -> datetime:
    """Whole seconds, as the engine reads the journey rows (R1 ties at one second)."""
    return when.replace(microsecond=0)


def link_credit(found: Insights, targets: Mapping[str, str]) -> dict[str, list[float]]:
    """[conversions, revenue] per link code (`targets`: code → its tracked destination, in the
    order to try): a credited arrival counts for the first link whose destination its landing
    URL starts with."""
    per_link: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for url, value in found.landings:
        for code, target in targets.items():
            if url.startswith(target):
                per_link[code][0] += 1
                per_link[code][1] += value
                break
    return dict(per_link)


def model_comparison(
    engine: Engine,
    workspace_id: int,
    window: Window,
    *,
    session_timeout: timedelta,
    new_session_on_campaign_change: bool,
    ci_level: float = 0.9,
    samples: int = 60,
) -> dict[str, Any]:
    """The engine's document for CHART_MODELS and the window's goal (default: the goal with
    revenue), with bootstrap intervals; `{}` when the workspace has no goal. Rows after the
    window's end are left out, and conversions before its start. The journeys are built in the
    engine over the store (`store_attribution`), not loaded into Python."""
    if not list_goals(engine, workspace_id):
        return {}
    query = AttributionQuery(
        CHART_MODELS, PathRules(), "channel", window.start, window.end, window.goal
    )
    return store_attribution(
        engine, workspace_id, query, session_timeout=session_timeout,
        new_session_on_campaign_change=new_session_on_campaign_change, ci=(ci_level, samples),
    )  # fmt: skip
