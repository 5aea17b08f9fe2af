"""First-touch and last-touch profile properties of one identity, by event time.

- `initial_*` come from the identity's **first touchpoint by event time** (corrected timestamp,
  then a click before its landing page, then message id), direct or not. They are never
  overwritten by a touch that happened later — but an event that *arrives* late and *happened*
  earlier (a phone that was offline, a batch import, a device merged in by an identify) does
  become the initial touch: the profile is a function of the set of touchpoints, not of the
  order the server saw them. (PostHog's `$set_once` keeps whatever arrived first instead.)
- `last_*` come from the **latest non-direct touchpoint by event time**, or from the latest
  touchpoint when every touch was direct: a direct return visit carries no campaign and does
  not erase the last one (GA4's "last non-direct click"; PostHog likewise sets `utm_*` only
  from events that have them). `last_touch_at` is that touch's time.
- The `utm` fields hold the touch's derived traffic source: the URL's UTMs when it had them,
  else what `traffic_source` derived (`google / organic`, `(direct) / (none)`, a referrer
  host `/ referral`). `initial_referrer` is the first touch's referrer (None when there was
  none: a direct arrival).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tagtrail.collect.touchpoints import Touchpoint, order_key

__all__ = ["Profile", "profile", "profiles"]


@dataclass(frozen=True, slots=True)
class Profile:
    identity: str
    touches: int
    initial_utm_source: str | None = None
    initial_utm_medium: str | None = None
    initial_utm_campaign: str | None = None
    initial_utm_content: str | None = None
    initial_utm_term: str | None = None
    initial_referrer: str | None = None
    initial_channel: str | None = None
    initial_touch_at: datetime | None = None
    last_utm_source: str | None = None
    last_utm_medium: str | None = None
    last_utm_campaign: str | None = None
    last_utm_content: str | None = None
    last_utm_term: str | None = None
    last_referrer: str | None = None
    last_channel: str | None = None
    last_touch_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The profile as JSON-ready values (times as ISO 8601 UTC with `Z`)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.strftime("%Y-%m-%dT%H:%M:%SZ")
            out[name] = value
        return out


def profile(identity: str, touchpoints: Iterable[Touchpoint]) -> Profile:
    """The profile of `identity` from its touchpoints (any order; duplicates count once)."""
    unique = {t.message_id: t for t in sorted(touchpoints, key=order_key, reverse=True)}
    ordered = sorted(unique.values(), key=order_key)
    if not ordered:
        return Profile(identity, 0)
    first = ordered[0]
    last = next((t for t in reversed(ordered) if not t.is_direct), ordered[-1])
    return Profile(
        identity=identity,
        touches=len(ordered),
        initial_utm_source=first.source,
        initial_utm_medium=first.medium,
        initial_utm_campaign=first.campaign,
        initial_utm_content=first.content,
        initial_utm_term=first.term,
        initial_referrer=first.referrer,
        initial_channel=first.channel,
        initial_touch_at=first.timestamp,
        last_utm_source=last.source,
        last_utm_medium=last.medium,
        last_utm_campaign=last.campaign,
        last_utm_content=last.content,
        last_utm_term=last.term,
        last_referrer=last.referrer,
        last_channel=last.channel,
        last_touch_at=last.timestamp,
    )


def profiles(touchpoints: Mapping[str, Iterable[Touchpoint]]) -> dict[str, Profile]:
    """`profile` for every identity of a mapping identity → touchpoints."""
    return {identity: profile(identity, touches) for identity, touches in touchpoints.items()}
