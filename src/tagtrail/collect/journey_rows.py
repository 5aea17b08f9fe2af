"""Touchpoints and conversions → the journey rows of DESIGN §7 (what `tagtrail attribute` reads).

Columns `user_id,timestamp,type,channel,source,medium,campaign,value`:

- `user_id` is the canonical identity id (`IdentityGraph`); `timestamp` ISO 8601 UTC with `Z`,
  whole seconds (`2024-01-03T14:05:09Z`);
- a `touch` row carries the touch's GA4 channel, source, medium and campaign as derived, and an
  empty value; GA4's `Direct` is written `direct` with source `(direct)` and medium `(none)`
  (DESIGN §7: only `direct` is direct);
- a `conversion` row carries only its value, with two decimals at least (`0.00` when the goal
  has no revenue property or the event has none);
- rows are sorted by user, time, touches before conversions at equal times (R1), then id.

A goal is an event name with an optional revenue property: `Goal("Order Completed", "revenue")`.
A revenue that is not a number (or a numeric string) counts as `0.00`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from tagtrail.collect.normalize import NormalizedEvent, as_utc
from tagtrail.collect.touchpoints import DIRECT, Touchpoint

__all__ = [
    "JOURNEY_COLUMNS",
    "Conversion",
    "Goal",
    "JourneyRow",
    "conversion_for",
    "format_timestamp",
    "journey_csv",
    "journey_rows",
    "value_text",
]

JOURNEY_COLUMNS: Final = (
    "user_id",
    "timestamp",
    "type",
    "channel",
    "source",
    "medium",
    "campaign",
    "value",
)
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Goal:
    """A conversion goal: track events named `event`, valued by `revenue` (a property name)."""

    event: str
    revenue: str | None = None


def best_goal(
    goals: Sequence[Goal], value: Mapping[str, Decimal], count: Mapping[str, int]
) -> Goal:
    """The goal with revenue among `goals` (not empty): the most value (`value` per goal
    event), then one with a revenue property, then the most conversions (`count`); ties go to
    the goal added first."""
    return max(
        goals,
        key=lambda g: (value.get(g.event, Decimal(0)), g.revenue is not None,
                       count.get(g.event, 0)),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Conversion:
    message_id: str
    timestamp: datetime
    goal: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class JourneyRow:
    user_id: str
    timestamp: str
    type: Literal["touch", "conversion"]
    channel: str
    source: str
    medium: str
    campaign: str
    value: str
    content: str = ""  # utm_content: not a DESIGN §7 column, written only for `--by content`

    def as_tuple(self, *, content: bool = False) -> tuple[str, ...]:
        names = (*JOURNEY_COLUMNS, "content") if content else JOURNEY_COLUMNS
        return tuple(getattr(self, name) for name in names)


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return Decimal(0)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return Decimal(0)
    return amount if amount.is_finite() else Decimal(0)


def conversion_for(event: NormalizedEvent, goals: Iterable[Goal]) -> Conversion | None:
    """The conversion a track event is, when its name is a goal's (the first matching goal)."""
    if event.type != "track" or event.event is None:
        return None
    for goal in goals:
        if goal.event == event.event:
            value = goal_value(goal, event.properties)
            return Conversion(event.message_id, event.timestamp, goal.event, value)
    return None


def goal_value(goal: Goal, properties: Mapping[str, Any]) -> Decimal:
    """A conversion's value: the goal's revenue property when it is a finite number (or a
    string of one), else 0."""
    return _amount(properties.get(goal.revenue)) if goal.revenue else Decimal(0)


def format_timestamp(value: datetime) -> str:
    """`2024-01-03T14:05:09Z`: UTC, whole seconds (a naive time is read as UTC)."""
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def value_text(revenue: object) -> str:
    """The `value` column of a conversion whose revenue property is `revenue` (absent: None),
    as `journey_rows` writes it."""
    return _value(_amount(revenue))


def _value(amount: Decimal) -> str:
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return str(amount.quantize(_CENT))
    return format(amount.normalize(), "f")


def _touch(user: str, touch: Touchpoint) -> JourneyRow:
    if touch.channel == DIRECT:
        channel, source, medium, content = "direct", "(direct)", "(none)", "(direct)"
    else:
        channel, source, medium = touch.channel, touch.source, touch.medium
        content = touch.content or ""
    return JourneyRow(
        user,
        format_timestamp(touch.timestamp),
        "touch",
        channel,
        source,
        medium,
        touch.campaign,
        "",
        content,
    )


def journey_rows(
    touches: Mapping[str, Iterable[Touchpoint]],
    conversions: Mapping[str, Iterable[Conversion]] | None = None,
) -> list[JourneyRow]:
    """The journey rows of identity → touchpoints and identity → conversions."""
    keyed: list[tuple[tuple[str, datetime, int, str], JourneyRow]] = []
    for user, items in touches.items():
        for touch in items:
            key = (user, as_utc(touch.timestamp).replace(microsecond=0), 0, touch.message_id)
            keyed.append((key, _touch(user, touch)))
    for user, converted in (conversions or {}).items():
        for conv in converted:
            row = JourneyRow(
                user,
                format_timestamp(conv.timestamp),
                "conversion",
                "",
                "",
                "",
                "",
                _value(conv.value),
            )
            keyed.append(
                ((user, as_utc(conv.timestamp).replace(microsecond=0), 1, conv.message_id), row)
            )
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]


def journey_csv(rows: Sequence[JourneyRow], *, content: bool = False) -> str:
    """The rows as the DESIGN §7 CSV text, header first, `\\n` line ends; `content` adds a
    last `content` column (utm_content), which `attribute --by content` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*JOURNEY_COLUMNS, "content") if content else JOURNEY_COLUMNS)
    writer.writerows(row.as_tuple(content=content) for row in rows)
    return out.getvalue()
