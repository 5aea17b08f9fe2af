"""Segment's HTTP tracking API payloads: track, identify, page, screen, alias, group and batch.

The models use Segment's field names (`messageId`, `anonymousId`, `sentAt`, …) as aliases, so
they read exactly what Segment's and RudderStack's clients send; the Python attributes are
snake_case. Unknown top-level fields are ignored; `properties`, `traits`, `integrations` and the
rest of `context` are kept as given. The rules Segment documents:

- every call but `alias` needs a `userId` or an `anonymousId` (a number is read as its string;
  an empty string counts as absent);
- `track` needs a non-empty `event`; `group` a `groupId`; `alias` a `previousId` and a `userId`;
- one event is at most 32 KB and one batch at most 500 KB (`check_size`);
- a batch may carry `context`, `integrations`, `sentAt` and `writeKey` for all its events (an
  event's own values win; contexts are merged one level deep).

`parse_event` and `parse_batch` raise `InvalidEvent` whose `errors` hold one message per field,
such as ``event: is required`` or ``batch[2].timestamp: must be an ISO 8601 timestamp``. A batch
is all or nothing: one invalid event refuses the whole batch, so a client's retry cannot store
half of it twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Final, Literal, NamedTuple, Required, TypeAlias

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    model_validator,
    with_config,
)
from pydantic_core import to_json
from typing_extensions import TypedDict

from tagtrail.errors import EventTooLarge, InvalidEvent

__all__ = [
    "EVENT_TYPES",
    "MAX_BATCH_BYTES",
    "MAX_EVENT_BYTES",
    "AliasEvent",
    "Batch",
    "CampaignContext",
    "Context",
    "Event",
    "EventType",
    "GroupEvent",
    "IdentifyEvent",
    "LibraryContext",
    "PageContext",
    "PageEvent",
    "QuickBatch",
    "ScreenEvent",
    "TrackEvent",
    "check_size",
    "event_size",
    "parse_batch",
    "parse_event",
    "quick_batch",
]

#: Segment: "There is a maximum of 32KB per call" and "a limit of 500KB per batch request".
MAX_EVENT_BYTES: Final = 32 * 1024
MAX_BATCH_BYTES: Final = 500 * 1024
_NEEDS_FULL: Final = frozenset({"context", "sent_at", "write_key"})

EventType: TypeAlias = Literal["track", "identify", "page", "screen", "alias", "group"]
EVENT_TYPES: Final[tuple[EventType, ...]] = (
    "track",
    "identify",
    "page",
    "screen",
    "alias",
    "group",
)


def _identifier(value: object) -> object:
    """An id: a string (stripped; empty means absent) or an integer read as its string."""
    if isinstance(value, bool):
        raise ValueError("must be a string")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    if value is None:
        return None
    raise ValueError("must be a string")


def _required(value: object) -> object:
    found = _identifier(value)
    if found is None:
        raise ValueError("is required")
    return found


Identifier = Annotated[str | None, BeforeValidator(_identifier)]
RequiredIdentifier = Annotated[str, BeforeValidator(_required)]
Text = Annotated[str | None, Field(default=None)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class PageContext(_Model):
    """`context.page`: what the browser was showing."""

    url: str | None = None
    referrer: str | None = None
    title: str | None = None
    path: str | None = None
    search: str | None = None


class CampaignContext(_Model):
    """`context.campaign`: the UTMs (`name` is `utm_campaign`)."""

    name: str | None = None
    source: str | None = None
    medium: str | None = None
    term: str | None = None
    content: str | None = None


class LibraryContext(_Model):
    name: str | None = None
    version: str | None = None


class Context(_Model):
    """`context`: the fields tagtrail reads are typed; any other key is kept as given."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)

    page: PageContext | None = None
    campaign: CampaignContext | None = None
    user_agent: str | None = Field(default=None, alias="userAgent")
    ip: str | None = None
    library: LibraryContext | None = None


class _Message(_Model):
    type: EventType
    message_id: Identifier = Field(default=None, alias="messageId")
    anonymous_id: Identifier = Field(default=None, alias="anonymousId")
    user_id: Identifier = Field(default=None, alias="userId")
    context: Context = Field(default_factory=Context)
    integrations: dict[str, Any] | None = None
    timestamp: datetime | None = None
    sent_at: datetime | None = Field(default=None, alias="sentAt")
    original_timestamp: datetime | None = Field(default=None, alias="originalTimestamp")
    received_at: datetime | None = Field(default=None, alias="receivedAt")
    write_key: str | None = Field(default=None, alias="writeKey")

    @model_validator(mode="after")
    def _needs_an_id(self) -> _Message:
        if self.type != "alias" and self.user_id is None and self.anonymous_id is None:
            article = "an" if self.type == "identify" else "a"
            raise ValueError(f"userId: {article} {self.type} call needs a userId or an anonymousId")
        return self


class TrackEvent(_Message):
    type: Literal["track"] = "track"
    event: Annotated[str, Field(min_length=1)]
    properties: dict[str, Any] = Field(default_factory=dict)


class IdentifyEvent(_Message):
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict)


class PageEvent(_Message):
    type: Literal["page"] = "page"
    name: Text
    category: Text
    properties: dict[str, Any] = Field(default_factory=dict)


class ScreenEvent(_Message):
    type: Literal["screen"] = "screen"
    name: Text
    properties: dict[str, Any] = Field(default_factory=dict)


class GroupEvent(_Message):
    type: Literal["group"] = "group"
    group_id: RequiredIdentifier = Field(alias="groupId")
    traits: dict[str, Any] = Field(default_factory=dict)


class AliasEvent(_Message):
    type: Literal["alias"] = "alias"
    previous_id: RequiredIdentifier = Field(alias="previousId")
    user_id: RequiredIdentifier = Field(alias="userId")


Event: TypeAlias = TrackEvent | IdentifyEvent | PageEvent | ScreenEvent | GroupEvent | AliasEvent

_MODELS: Final[dict[str, type[_Message]]] = {
    "track": TrackEvent,
    "identify": IdentifyEvent,
    "page": PageEvent,
    "screen": ScreenEvent,
    "group": GroupEvent,
    "alias": AliasEvent,
}


class Batch(_Model):
    """`POST /v1/batch`: the events plus values shared by all of them (for OpenAPI)."""

    batch: list[Annotated[Event, Field(discriminator="type")]]
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    sent_at: datetime | None = Field(default=None, alias="sentAt")
    write_key: str | None = Field(default=None, alias="writeKey")


# The fast path's schema: the models' rules as TypedDicts, validated with the JSON parse in one
# call, no model instances and no Python validators (`quick_batch`). Unknown keys are kept, and
# times are kept as sent (then validated in one call of their own), so that a validated event
# serialises to exactly the length of the one sent (the 32 KB check).
_RawId = str | Annotated[int, Strict()] | None
_KEEP: Final = ConfigDict(extra="allow")


@with_config(_KEEP)
class _PageT(TypedDict, total=False):
    url: str | None
    referrer: str | None
    title: str | None
    path: str | None
    search: str | None


@with_config(_KEEP)
class _CampaignT(TypedDict, total=False):
    name: str | None
    source: str | None
    medium: str | None
    term: str | None
    content: str | None


@with_config(_KEEP)
class _LibraryT(TypedDict, total=False):
    name: str | None
    version: str | None


@with_config(_KEEP)
class _ContextT(TypedDict, total=False):
    page: _PageT | None
    campaign: _CampaignT | None
    userAgent: str | None
    ip: str | None
    library: _LibraryT | None


@with_config(_KEEP)
class _MessageT(TypedDict, total=False):
    messageId: _RawId
    anonymousId: _RawId
    userId: _RawId
    context: _ContextT
    integrations: dict[str, Any] | None
    writeKey: str | None


@with_config(_KEEP)
class _TrackT(_MessageT, total=False):
    type: Required[Literal["track"]]
    event: Required[Annotated[str, Field(min_length=1)]]
    properties: dict[str, Any]


@with_config(_KEEP)
class _IdentifyT(_MessageT, total=False):
    type: Required[Literal["identify"]]
    traits: dict[str, Any]


@with_config(_KEEP)
class _PageEventT(_MessageT, total=False):
    type: Required[Literal["page"]]
    name: str | None
    category: str | None
    properties: dict[str, Any]


@with_config(_KEEP)
class _ScreenT(_MessageT, total=False):
    type: Required[Literal["screen"]]
    name: str | None
    properties: dict[str, Any]


@with_config(_KEEP)
class _GroupT(_MessageT, total=False):
    type: Required[Literal["group"]]
    groupId: Required[_RawId]
    traits: dict[str, Any]


@with_config(_KEEP)
class _AliasT(_MessageT, total=False):
    type: Required[Literal["alias"]]
    previousId: Required[_RawId]


@with_config(_KEEP)
class _BatchT(TypedDict, total=False):
    batch: Required[
        list[
            Annotated[
                _TrackT | _IdentifyT | _PageEventT | _ScreenT | _GroupT | _AliasT,
                Field(discriminator="type"),
            ]
        ]
    ]
    integrations: dict[str, Any] | None
    writeKey: str | None


_QUICK: Final = TypeAdapter(_BatchT)
_TIMES: Final = TypeAdapter(list[datetime | None])
_TIME_KEYS: Final = ("timestamp", "sentAt", "originalTimestamp", "receivedAt")


class QuickBatch(NamedTuple):
    """`quick_batch`'s answer: validated events as dicts with Segment's keys (times as
    datetimes), the batch's `sentAt` (for the events without their own), and its `writeKey`
    when it is a string."""

    events: list[dict[str, Any]]
    sent_at: datetime | None
    write_key: str | None


_ID_KEYS: Final = ("messageId", "anonymousId", "userId")
_IDS: Final = {
    **dict.fromkeys(EVENT_TYPES, _ID_KEYS),
    "group": (*_ID_KEYS, "groupId"),
    "alias": (*_ID_KEYS, "previousId"),
}
# Keys the models also read by their Python names, and a body-level `context` (merged into each
# event) or `cookieless` (ids derived by the server): a body with any of them takes the full path.
_BY_NAME: Final = frozenset(
    {
        "message_id",
        "anonymous_id",
        "user_id",
        "group_id",
        "previous_id",
        "sent_at",
        "original_timestamp",
        "received_at",
        "write_key",
    }
)
_FULL_PATH: Final = _BY_NAME | {"context", "cookieless"}


_MESSAGES: Final = {
    "missing": "is required",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "list_type": "must be an array",
    "datetime_type": "must be an ISO 8601 timestamp",
    "datetime_parsing": "must be an ISO 8601 timestamp",
    "datetime_from_date_parsing": "must be an ISO 8601 timestamp",
    "string_too_short": "must not be empty",
}


def _describe(error: Any, prefix: str) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    text = _MESSAGES.get(error["type"])
    if text is None:
        text = str(error["msg"]).removeprefix("Value error, ")
        if not loc and ": " in text:  # a cross-field rule names its field itself
            return prefix + text
    path = prefix + loc if loc else prefix.rstrip(".") or "event"
    return f"{path}: {text}"


def _fail(errors: list[str], what: str) -> InvalidEvent:
    return InvalidEvent(
        f"the {what} is not valid: " + "; ".join(errors),
        hint="send Segment's HTTP API format (https://segment.com/docs/connections/sources/"
        "catalog/libraries/server/http-api/)",
        errors=tuple(errors),
    )


def _validate(obj: object, kind: str | None, prefix: str) -> Event | list[str]:
    if not isinstance(obj, dict):
        return [f"{prefix.rstrip('.') or 'event'}: must be an object"]
    kind = kind if kind is not None else obj.get("type")
    if not isinstance(kind, str) or kind not in _MODELS:
        where = f"{prefix}type"
        if kind is None:
            return [f"{where}: is required"]
        return [f"{where}: unknown type {kind!r}; one of {', '.join(EVENT_TYPES)}"]
    try:
        event = _MODELS[str(kind)].model_validate({**obj, "type": kind})
    except ValidationError as exc:
        return [_describe(error, prefix) for error in exc.errors()]
    return event  # type: ignore[return-value]  # _MODELS maps each type to its Event class


def parse_event(obj: object, *, kind: EventType | None = None) -> Event:
    """One event; `kind` is the endpoint's type (`/v1/track` → "track") and wins over `type`.

    >>> parse_event({"event": "Signed Up", "userId": 7}, kind="track").user_id
    '7'
    """
    result = _validate(obj, kind, "")
    if isinstance(result, list):
        raise _fail(result, "event")
    return result


def _shared(obj: dict[str, Any], event: object) -> object:
    """The batch's `context`, `integrations`, `sentAt` and `writeKey` under the event's own."""
    if not isinstance(event, dict):
        return event
    merged = dict(event)
    for name in ("integrations", "sentAt", "writeKey"):
        if obj.get(name) is not None and merged.get(name) is None:
            merged[name] = obj[name]
    shared = obj.get("context")
    own = merged.get("context")
    if isinstance(shared, dict) and (own is None or isinstance(own, dict)):
        merged["context"] = {**shared, **(own or {})}
    return merged


def parse_batch(obj: object, *, max_event_bytes: int | None = MAX_EVENT_BYTES) -> list[Event]:
    """Every event of a `/v1/batch` body, or `InvalidEvent` naming each bad field.

    Each event is also held to `max_event_bytes` (its compact JSON); None skips that check
    (the caller has checked the body size already and trusts its clients).
    """
    if not isinstance(obj, dict):
        raise _fail(["batch: the body must be an object with a `batch` array"], "batch")
    items = obj.get("batch")
    if not isinstance(items, list):
        raise _fail(["batch: " + ("is required" if items is None else "must be an array")], "batch")
    events: list[Event] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        prefix = f"batch[{index}]."
        if max_event_bytes is not None and event_size(item) > max_event_bytes:
            errors.append(f"batch[{index}]: the event is over {max_event_bytes} bytes")
            continue
        result = _validate(_shared(obj, item), None, prefix)
        if isinstance(result, list):
            errors.extend(result)
        else:
            events.append(result)
    if errors:
        raise _fail(errors, "batch")
    return events


def quick_batch(raw: bytes) -> QuickBatch | None:
    """`parse_batch`'s fast path, from the body's bytes: the events of a body that
    `parse_batch` accepts, as validated dicts with Segment's keys (ids tidied as the models tidy
    them; a missing key is absent). None for a body it would refuse — it then names each bad
    field — and for one that needs it: a batch-level `context` (merged into each event),
    `cookieless`, or keys spelt by their Python names. An event's size is checked on its
    `to_json` form, and exactly only near the limit."""
    try:
        body = _QUICK.validate_json(raw)
    except ValidationError:
        return None
    if not _FULL_PATH.isdisjoint(body):
        return None
    found: list[dict[str, Any]] = body["batch"]  # type: ignore[assignment]
    times: list[Any] = []
    for event in found:
        context = event.get("context")
        if not _BY_NAME.isdisjoint(event) or (context is not None and "user_agent" in context):
            return None
        size = len(to_json(event))
        # Python's JSON is at most twice as long as to_json's (number formats), so only a
        # large event needs the exact size.
        if size > MAX_EVENT_BYTES // 2 and event_size(event) > MAX_EVENT_BYTES:
            return None
        kind = event["type"]
        for name in _IDS[kind]:
            value = event.get(name)
            if value.__class__ is str:
                tidy = value.strip()
                if tidy is not value or not tidy:  # strip() gives the same str when tidy
                    event[name] = tidy or None
            elif value is not None:
                event[name] = str(value)
        if kind == "alias":
            if not event.get("userId") or not event.get("previousId"):
                return None
        elif not event.get("userId") and not event.get("anonymousId"):
            return None
        elif kind == "group" and not event.get("groupId"):
            return None
        times += [event.get(name) for name in _TIME_KEYS]
    times.append(body.get("sentAt"))
    try:
        parsed = _TIMES.validate_python(times)
    except ValidationError:
        return None
    for index, event in enumerate(found):
        for offset, name in enumerate(_TIME_KEYS):
            if name in event:
                event[name] = parsed[index * 4 + offset]
    key = body.get("writeKey")
    return QuickBatch(found, parsed[-1], key if isinstance(key, str) else None)


def event_size(obj: object) -> int:
    """The size in bytes of `obj` as compact UTF-8 JSON (what a client would send)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


def check_size(raw_bytes_len: int, *, batch: bool = False) -> None:
    """Refuse a body over 32 KB (one event) or 500 KB (`batch=True`) with `EventTooLarge`."""
    limit = MAX_BATCH_BYTES if batch else MAX_EVENT_BYTES
    if raw_bytes_len > limit:
        what = "batch" if batch else "event"
        raise EventTooLarge(
            f"the {what} is {raw_bytes_len} bytes, over the {limit}-byte limit",
            hint="send at most 32 KB per event and 500 KB per batch (split the batch)",
            errors=(f"{what}: {raw_bytes_len} bytes is over the {limit}-byte limit",),
        )
