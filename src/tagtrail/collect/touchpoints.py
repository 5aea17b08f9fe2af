"""Touchpoints: every arrival from outside the site, with its source, medium, campaign and channel.

DESIGN §5 and issue 5:

- a page or screen event is a touchpoint with the traffic source `normalize` derived for it;
- an arrival with no campaign and no referrer is a touchpoint of channel `Direct`
  (`(direct) / (none)`);
- a **self-referral** — a referrer on one of the site's own hosts (or the landing host) and no
  campaign or click id — is internal navigation, not a touchpoint (None);
- track events are not touchpoints unless asked (`track=True`): the browser snippet puts the
  page context on every track call, and each would repeat the page view's touchpoint;
- a click on a tagtrail short link is a touchpoint of its own (`click_touchpoint`), with its
  recipient when the token was valid, and the channel of the link's UTMs — so a campaign is
  attributable with no snippet at all. The landing page view that follows the click repeats
  it; `drop_click_landings` removes such repeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, TypeAlias

from tagtrail.channels import DEFAULT_RULESET, TrafficSource, referrer_host, traffic_source
from tagtrail.channels.referrers import host_of, strip_www
from tagtrail.collect.normalize import NormalizedEvent, as_utc
from tagtrail.errors import InvalidInput

__all__ = [
    "CLICK_LANDING_WINDOW",
    "DIRECT",
    "Touchpoint",
    "TouchpointKind",
    "arrival",
    "click_touchpoint",
    "drop_click_landings",
    "is_self_referral",
    "order_key",
    "touchpoint_for",
]

TouchpointKind: TypeAlias = Literal["page", "screen", "track", "click"]
DIRECT: Final = "Direct"
#: A landing page view this soon after a click on a link with the same UTMs is that click.
CLICK_LANDING_WINDOW: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One arrival. `message_id` is the event's (`click:<id>` for a click); ids say whose it is."""

    message_id: str
    timestamp: datetime
    kind: TouchpointKind
    source: str
    medium: str
    campaign: str
    content: str | None
    term: str | None
    channel: str
    click_id: str | None = None  # the click-id parameter that decided (gclid…), not a click row
    referrer: str | None = None
    url: str | None = None
    anonymous_id: str | None = None
    user_id: str | None = None
    recipient: str | None = None  # a short-link click's recipient (public id), when known
    visitor: str | None = None  # a short-link click's anonymous visitor hash

    @property
    def is_direct(self) -> bool:
        return self.channel == DIRECT

    @property
    def key(self) -> tuple[str, str, str, str | None, str | None]:
        """What makes two touches "the same campaign": source, medium, campaign, content, term."""
        return (self.source, self.medium, self.campaign, self.content, self.term)


def order_key(touch: Touchpoint) -> tuple[datetime, bool, str]:
    """Event-time order: timestamp, then a click before the page view it led to, then id."""
    return (touch.timestamp, touch.kind != "click", touch.message_id)


def is_self_referral(url: str | None, referrer: str | None, site_hosts: Iterable[str]) -> bool:
    """True when the referrer's host is a site host or the landing host (or a subdomain)."""
    host = referrer_host(referrer)
    if host is None:
        return False
    hosts = {strip_www(h.strip().lower().rstrip(".")) for h in site_hosts if h and h.strip()}
    landing = host_of(url) if url else None
    if landing:
        hosts.add(strip_www(landing))
    bare = strip_www(host)
    return any(bare == site or bare.endswith("." + site) for site in hosts)


def _from(traffic: TrafficSource, **fields: object) -> Touchpoint:
    return Touchpoint(
        source=traffic.source,
        medium=traffic.medium,
        campaign=traffic.campaign,
        content=traffic.content,
        term=traffic.term,
        channel=traffic.channel,
        click_id=traffic.click_id,
        **fields,  # type: ignore[arg-type]
    )


def arrival(
    kind: str,
    traffic: TrafficSource | None,
    url: str | None,
    referrer: str | None,
    *,
    site_hosts: Iterable[str] = (),
    track: bool = False,
) -> TrafficSource | None:
    """The traffic source of an event of type `kind` that is an arrival, else None: page and
    screen events (track events only with `track=True`) that are not self-referrals."""
    if traffic is None or kind not in ("page", "screen", "track"):
        return None
    if kind == "track" and not track:
        return None
    if traffic.channel == DIRECT and is_self_referral(url, referrer, site_hosts):
        return None
    return traffic


def touchpoint_for(
    event: NormalizedEvent, *, site_hosts: Iterable[str] = (), track: bool = False
) -> Touchpoint | None:
    """The touchpoint of a normalised event, or None (not an arrival, or a self-referral)."""
    traffic = arrival(
        event.type, event.traffic, event.url, event.referrer, site_hosts=site_hosts, track=track
    )
    if traffic is None:
        return None
    return _from(
        traffic,
        message_id=event.message_id,
        timestamp=event.timestamp,
        kind=event.type,
        referrer=event.referrer,
        url=event.url,
        anonymous_id=event.anonymous_id,
        user_id=event.user_id,
    )


def click_touchpoint(
    *,
    click_id: int | str,
    clicked_at: datetime,
    destination: str,
    referrer: str | None = None,
    recipient: str | None = None,
    user_id: str | None = None,
    visitor: str | None = None,
    ruleset: str = DEFAULT_RULESET,
) -> Touchpoint:
    """The touchpoint of a short-link click (its row `click_id`, redirected to `destination`).

    The channel comes from the UTMs of `destination` (the URL the redirect sent the visitor
    to, with the link's default UTMs applied); a link without UTMs falls back to the click's
    referrer, then Direct. `recipient` is the valid token's recipient, `user_id` the user that
    recipient is (when the recipient was given as a user id), `visitor` the anonymous hash.
    """
    try:
        traffic = traffic_source(destination, referrer, ruleset=ruleset)
    except InvalidInput:
        traffic = traffic_source("/", referrer, ruleset=ruleset)
    return _from(
        traffic,
        message_id=f"click:{click_id}",
        timestamp=as_utc(clicked_at),
        kind="click",
        referrer=referrer,
        url=destination,
        user_id=user_id,
        recipient=recipient,
        visitor=visitor,
    )


def drop_click_landings(
    touchpoints: Sequence[Touchpoint], *, window: timedelta = CLICK_LANDING_WINDOW
) -> list[Touchpoint]:
    """One identity's touchpoints (any order) without the page views that repeat a click.

    A page touchpoint is dropped when a click touchpoint with the same `key` (source, medium,
    campaign, content, term) happened at or before it, at most `window` earlier: the redirect
    sent the visitor to that page with those UTMs. The result is sorted by (timestamp,
    message_id), a click first at equal times (`order_key`).
    """
    ordered = sorted(touchpoints, key=order_key)
    last_click: dict[tuple[str, str, str, str | None, str | None], datetime] = {}
    kept: list[Touchpoint] = []
    for touch in ordered:
        if touch.kind == "click":
            last_click[touch.key] = touch.timestamp
        elif touch.kind == "page" and not touch.is_direct:
            seen = last_click.get(touch.key)
            if seen is not None and touch.timestamp - seen <= window:
                continue
        kept.append(touch)
    return kept
