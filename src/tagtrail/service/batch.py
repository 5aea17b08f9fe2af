"""The `events` rows of a whole `/v1/batch` at once (the collection fast path).

`batch_values` gives, for each event of a `quick_batch`, the values that
`event_row(normalize(event))` gives (a test holds them equal), as tuples in `EVENT_COLUMNS` order
and in the form the driver takes, with no model, `NormalizedEvent` or row dict per event: the
page, campaign and touchpoint columns are memoised on the context they come from
(`raw_page_key`), times are corrected in naive UTC, and addresses are anonymised through a
cache. It returns None for a batch that needs the full path (the API's `POST /v1/batch` route):
an event without a `messageId` (the route gives it a new one) or with a `tt_hint`
(verified against the store and kept as an identity fact).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final

from tagtrail.clicks import anonymize_ip, redact_url
from tagtrail.collect.normalize import PageKey, facts_for, raw_page_key
from tagtrail.collect.schema import QuickBatch
from tagtrail.collect.touchpoints import arrival
from tagtrail.service.collect import json_text, strip_hint

__all__ = ["batch_values", "store_time"]

_NO_TOUCH: Final = (None,) * 8
_EMPTY: Final[dict[str, Any]] = {}
_NAMED: Final = frozenset({"page", "screen"})
_WITH_PROPERTIES: Final = frozenset({"page", "screen", "track"})
_WITH_TRAITS: Final = frozenset({"identify", "group"})
# hint, (url, referrer, title), the eight tp_* columns
_Page = tuple[str | None, tuple[str | None, ...], tuple[str | None, ...]]


@lru_cache(maxsize=16384)
def _page_columns(key: PageKey, site_hosts: tuple[str, ...]) -> _Page:
    facts = facts_for(key, site_hosts)
    traffic = arrival(key[0], facts.traffic, facts.url, facts.referrer, site_hosts=site_hosts)
    touch = (
        (
            key[0],
            traffic.source,
            traffic.medium,
            traffic.campaign,
            traffic.content,
            traffic.term,
            traffic.channel,
            traffic.click_id,
        )
        if traffic is not None
        else _NO_TOUCH
    )
    return facts.hint, (strip_hint(facts.url), redact_url(facts.referrer), facts.title), touch


def store_time(value: datetime) -> str:
    """A naive UTC time as SQLAlchemy keeps it in SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`)."""
    return value.isoformat(" ", "microseconds")


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)


def _naive_utc(value: datetime) -> datetime:
    """Naive UTC (a naive time is UTC already), by way of the time since the epoch, which is
    cheaper than `astimezone` + `replace`; OverflowError past the calendar's ends."""
    if value.tzinfo is None:
        return value
    return _NAIVE_EPOCH + (value - _EPOCH)


def _text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def batch_values(
    workspace_id: int,
    batch: QuickBatch,
    *,
    received_at: datetime,
    ip: str | None,
    user_agent: str | None,
    site_hosts: tuple[str, ...] = (),
    times_as_text: bool = False,
) -> list[tuple[Any, ...]] | None:
    """The `events` values of every event of `batch` received at `received_at` (aware) from
    `ip` with `user_agent`; times as text for SQLite (`times_as_text`). None: use the full path.
    Raises OverflowError for a time that is out of range in UTC (the full path clamps it).

    The skew correction `received − (sentAt − client)` is computed as `client + (received −
    sentAt)`, the same exact value, with the difference taken once per batch."""
    received = _naive_utc(received_at)
    received_value = store_time(received) if times_as_text else received
    shared_skew = received - _naive_utc(batch.sent_at) if batch.sent_at is not None else None
    request_agent = _text(user_agent)
    request_ip = _text(ip)
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for event in batch.events:
        get = event.get
        message = get("messageId")
        if not message:
            return None
        hint, page, touch = _page_columns(raw_page_key(event), site_hosts)
        if hint is not None:
            return None
        kind = event["type"]
        client = get("originalTimestamp") or get("timestamp")
        if client is None:
            when = received
        else:
            when = _naive_utc(client)
            sent = get("sentAt")
            skew = received - _naive_utc(sent) if sent is not None else shared_skew
            if skew is not None:
                when += skew
                if when > received:
                    when = received
        context = get("context") or _EMPTY
        agent = _text(context.get("userAgent")) or request_agent
        address = _text(context.get("ip")) or request_ip
        append(
            (
                workspace_id,
                message[:200],
                kind,
                when.isoformat(" ", "microseconds") if times_as_text else when,
                received_value,
                get("anonymousId"),
                get("userId"),
                get("previousId") if kind == "alias" else None,
                get("groupId") if kind == "group" else None,
                get("event") if kind == "track" else None,
                get("name") if kind in _NAMED else None,
                *page,
                agent[:512] if agent else None,
                anonymize_ip(address) if address else None,
                json_text(get("properties") or _EMPTY) if kind in _WITH_PROPERTIES else "{}",
                json_text(get("traits") or _EMPTY) if kind in _WITH_TRAITS else "{}",
                *touch,
            )
        )
    return rows
