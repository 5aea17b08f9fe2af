"""One validated event → one `NormalizedEvent`: corrected time, message id, context, traffic source.

Pure: the caller passes the time it received the event, the request's IP and user agent, the
workspace's own hosts and the channel ruleset. Times come out as aware UTC datetimes (a naive
input is read as UTC).

- **Time** (Segment's rule): the client's clock is `originalTimestamp`, else `timestamp`. With a
  `sentAt`, the event happened at `receivedAt − (sentAt − client time)`, so a phone whose clock
  is an hour off still lands at the right moment; the result is never later than `receivedAt`.
  Without `sentAt`, a given `timestamp` is kept as is (a historical import); with no time at
  all, the event happened when it was received.
- **messageId**: kept as sent (the de-duplication key). When missing, it is the id the caller
  made when it accepted the event (`generated_id`: the server makes a new one for every event,
  so two identical calls without a messageId are two events); without one, `tt-` and 32 hex
  digits of the SHA-256 of the canonical payload (the validated event as compact, key-sorted
  JSON, without `writeKey` and `receivedAt`), so a file imported twice is stored once.
- **Context**: the page URL and referrer from `context.page` (else a page call's `properties`),
  the user agent and IP from `context` (else the request's; the caller anonymises the IP).
- **Campaign**: `context.campaign`, else the page URL's `utm_*` parameters.
- **Traffic source**: for page and screen events, and track events with a page URL,
  `tagtrail.channels.traffic_source(url, referrer, site_hosts=…, ruleset=…)`; a mobile event with
  only `context.campaign` gets the campaign's channel. An unreadable URL counts as none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, TypeAlias
from urllib.parse import parse_qsl, urlsplit

from tagtrail.channels import DEFAULT_RULESET, TrafficSource, channel_for, traffic_source
from tagtrail.clicks.tokens import HINT_PARAMETER
from tagtrail.collect.schema import (
    AliasEvent,
    Event,
    EventType,
    GroupEvent,
    IdentifyEvent,
    PageEvent,
    ScreenEvent,
    TrackEvent,
)
from tagtrail.errors import InvalidInput

__all__ = [
    "Campaign",
    "NormalizedEvent",
    "PageFacts",
    "PageKey",
    "as_utc",
    "corrected_timestamp",
    "facts_for",
    "message_id",
    "normalize",
    "page_facts",
    "page_key",
    "raw_page_key",
    "skew_corrected",
]

_NOT_SET: Final = "(not set)"
_HASHED_OUT: Final = frozenset({"writeKey", "receivedAt"})
_Texts: TypeAlias = tuple[str | None, str | None, str | None]  # url, referrer, title
_NO_TEXTS: Final[_Texts] = (None, None, None)
_UTM: TypeAlias = tuple[str | None, str | None, str | None, str | None, str | None]
PageKey: TypeAlias = tuple[EventType, _Texts, _Texts, _UTM | None]


@dataclass(frozen=True, slots=True)
class Campaign:
    """The UTMs an event carried (`name` is `utm_campaign`); missing ones are None."""

    source: str | None
    medium: str | None
    name: str | None
    content: str | None = None
    term: str | None = None


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    """An event as tagtrail stores it. `timestamp` is the corrected event time (aware UTC)."""

    message_id: str
    type: EventType
    timestamp: datetime
    received_at: datetime
    anonymous_id: str | None = None
    user_id: str | None = None
    previous_id: str | None = None
    group_id: str | None = None
    event: str | None = None  # a track call's event name
    name: str | None = None  # a page or screen call's name
    sent_at: datetime | None = None
    original_timestamp: datetime | None = None  # the client's clock, uncorrected
    url: str | None = None
    referrer: str | None = None
    title: str | None = None
    user_agent: str | None = None
    ip: str | None = None
    campaign: Campaign | None = None
    traffic: TrafficSource | None = None
    hint: str | None = None  # the `tt_hint` of the page URL (an identity hint to verify)
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    traits: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC). A time whose UTC falls outside the
    calendar (year 1 east of Greenwich, year 9999 west of it) is clamped to its first or last
    moment."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)


def corrected_timestamp(event: Event, received_at: datetime) -> datetime:
    """Segment's skew correction: `receivedAt − (sentAt − originalTimestamp|timestamp)`."""
    received = as_utc(received_at)
    client = event.original_timestamp or event.timestamp
    if client is None:
        return received
    if event.sent_at is None:
        return as_utc(client)
    return skew_corrected(as_utc(client), as_utc(event.sent_at), received)


def skew_corrected(client: datetime, sent_at: datetime, received_at: datetime) -> datetime:
    """`received_at − (sent_at − client)`, never later than `received_at` (all three aware, or
    all naive UTC). A skew so large that the result is before year 1 keeps the client's time."""
    try:
        return min(received_at - (sent_at - client), received_at)
    except OverflowError:  # past year 9999 is later than received_at anyway
        return client if sent_at > client else received_at


def message_id(event: Event, generated_id: str | None = None) -> str:
    """The event's `messageId`, else `generated_id`, else a deterministic one from the
    canonical payload."""
    if event.message_id:
        return event.message_id
    if generated_id:
        return generated_id
    payload = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    canonical = {k: v for k, v in payload.items() if k not in _HASHED_OUT}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "tt-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_EMPTY: Mapping[str, str] = MappingProxyType({})


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


@lru_cache(maxsize=16384)
def _query(url: str | None) -> Mapping[str, str]:
    """The URL's query parameters (memoised: a site's pages repeat, and this is per event)."""
    if not url:
        return _EMPTY
    try:
        return MappingProxyType(dict(parse_qsl(urlsplit(url).query, keep_blank_values=False)))
    except ValueError:
        return _EMPTY


def _campaign(given: _UTM | None, params: Mapping[str, str]) -> Campaign | None:
    if given is not None and any(given[:3]):
        return Campaign(*given)
    utm = [_text(params.get(f"utm_{n}")) for n in ("source", "medium", "campaign", "content")]
    if any(utm[:3]):
        return Campaign(utm[0], utm[1], utm[2], utm[3], _text(params.get("utm_term")))
    return None


@lru_cache(maxsize=16384)
def _traffic(
    url: str | None,
    referrer: str | None,
    campaign: Campaign | None,
    *,
    site_hosts: tuple[str, ...],
    ruleset: str,
) -> TrafficSource:
    if url is not None:
        try:
            found = traffic_source(url, referrer, site_hosts=site_hosts, ruleset=ruleset)
        except InvalidInput:
            found = None
        # context.campaign the URL does not carry (a mobile deep link) still decides
        if found is not None and (found.channel != "Direct" or campaign is None):
            return found
    if campaign is not None:
        source = campaign.source or _NOT_SET
        medium = campaign.medium or _NOT_SET
        name = campaign.name or _NOT_SET
        channel = channel_for(source, medium, name, ruleset=ruleset)
        return TrafficSource(source, medium, name, campaign.content, campaign.term, None, channel)
    return traffic_source("/", referrer, site_hosts=site_hosts, ruleset=ruleset)


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What an event's page and campaign context say: the same for every event that carries the
    same context, so it is computed once per distinct context (`page_facts`)."""

    url: str | None
    referrer: str | None
    title: str | None
    campaign: Campaign | None
    traffic: TrafficSource | None
    hint: str | None


def page_key(event: Event) -> PageKey:
    """The values an event's `PageFacts` come from: its type, `context.page` url, referrer and
    title, a page call's `properties` ones, and the `context.campaign` UTMs."""
    context = event.context
    page = context.page
    given = context.campaign
    return (
        event.type,
        (page.url, page.referrer, page.title) if page is not None else _NO_TEXTS,
        _page_properties(event.properties) if isinstance(event, PageEvent) else _NO_TEXTS,
        (given.source, given.medium, given.name, given.content, given.term) if given else None,
    )


def raw_page_key(event: Mapping[str, Any]) -> PageKey:
    """`page_key` of an event given as a dict with Segment's keys (`quick_batch`'s events)."""
    kind = event["type"]
    context = event.get("context")
    page = context.get("page") if context else None
    given = context.get("campaign") if context else None
    return (
        kind,
        (page.get("url"), page.get("referrer"), page.get("title"))
        if page is not None
        else _NO_TEXTS,
        _page_properties(event.get("properties") or _EMPTY) if kind == "page" else _NO_TEXTS,
        (
            given.get("source"),
            given.get("medium"),
            given.get("name"),
            given.get("content"),
            given.get("term"),
        )
        if given is not None
        else None,
    )


def page_facts(
    event: Event, *, site_hosts: tuple[str, ...] = (), ruleset: str = DEFAULT_RULESET
) -> PageFacts:
    """The event's URL, referrer, title, campaign, traffic source and `tt_hint`."""
    return facts_for(page_key(event), site_hosts, ruleset)


def _page_properties(properties: Mapping[str, Any]) -> _Texts:
    """A page call's `properties` url, referrer and title (used where `context.page` has none)."""
    if not properties:
        return _NO_TEXTS
    get = properties.get
    return (_text(get("url")), _text(get("referrer")), _text(get("title")))


@lru_cache(maxsize=16384)
def facts_for(
    key: PageKey, site_hosts: tuple[str, ...] = (), ruleset: str = DEFAULT_RULESET
) -> PageFacts:
    """The `PageFacts` of `page_key(event)`, memoised (a site's events repeat a few pages and
    campaigns)."""
    kind, page, fallback, given = key
    url = _text(page[0]) or fallback[0]
    referrer = _text(page[1]) or fallback[1]
    title = _text(page[2]) or fallback[2]
    params = _query(url)
    campaign = _campaign(given, params)
    traffic = None
    if kind in ("page", "screen") or (kind == "track" and url):
        traffic = _traffic(url, referrer, campaign, site_hosts=site_hosts, ruleset=ruleset)
    return PageFacts(url, referrer, title, campaign, traffic, _text(params.get(HINT_PARAMETER)))


def normalize(
    event: Event,
    *,
    received_at: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
    site_hosts: Iterable[str] = (),
    ruleset: str = DEFAULT_RULESET,
    generated_id: str | None = None,
) -> NormalizedEvent:
    """The stored form of `event`, received at `received_at` from `ip` with `user_agent`;
    `generated_id` is its id if it has no `messageId`."""
    context = event.context
    properties: dict[str, Any] = dict(getattr(event, "properties", {}))
    facts = page_facts(event, site_hosts=tuple(site_hosts), ruleset=ruleset)
    traits = event.traits if isinstance(event, IdentifyEvent | GroupEvent) else {}
    return NormalizedEvent(
        message_id=message_id(event, generated_id),
        type=event.type,
        timestamp=corrected_timestamp(event, received_at),
        received_at=as_utc(received_at),
        anonymous_id=event.anonymous_id,
        user_id=event.user_id,
        previous_id=event.previous_id if isinstance(event, AliasEvent) else None,
        group_id=event.group_id if isinstance(event, GroupEvent) else None,
        event=event.event if isinstance(event, TrackEvent) else None,
        name=event.name if isinstance(event, PageEvent | ScreenEvent) else None,
        sent_at=as_utc(event.sent_at) if event.sent_at else None,
        original_timestamp=as_utc(t)
        if (t := event.original_timestamp or event.timestamp)
        else None,
        url=facts.url,
        referrer=facts.referrer,
        title=facts.title,
        user_agent=_text(context.user_agent) or _text(user_agent),
        ip=_text(context.ip) or _text(ip),
        campaign=facts.campaign,
        traffic=facts.traffic,
        hint=facts.hint,
        properties=MappingProxyType(properties),
        traits=MappingProxyType(dict(traits)),
    )
