"""`GET|HEAD /{code}`: the redirect hot path (DESIGN §6).

The destination comes only from the link row (never from the request); the click is
classified, anonymised and committed before the 302 goes out; HEAD and every other bot signal
are recorded as bot clicks, never dropped, and always redirected.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlsplit

import anyio.to_thread
from starlette.types import Message, Receive, Scope, Send

from tagtrail.clicks import (
    HINT_PARAMETER,
    TOKEN_PARAMETER,
    BotRules,
    BotVerdict,
    ClickFacts,
    anonymize_ip,
    classify_click,
    visitor_hash,
)
from tagtrail.errors import StoreError
from tagtrail.links.compose import append_query
from tagtrail.server import pages
from tagtrail.server.state import ServerState
from tagtrail.service.clicks import flag_burst
from tagtrail.service.collect import strip_hint
from tagtrail.service.links import RESERVED_CODES
from tagtrail.service.sends import last_send_before
from tagtrail.store.schema import clicks

logger = logging.getLogger(__name__)

_PREFETCH_HEADERS = {b"purpose", b"sec-purpose", b"x-purpose", b"x-moz"}
_NAIVE_EPOCH = datetime(1970, 1, 1)
_SAFE_PIECE = re.compile(r"[!-~]{1,2000}")  # printable ASCII, no space, no control characters
_LOCATION = re.compile(r"[!-~]+")  # what a Location header may carry: printable ASCII
_OWN = (f"{TOKEN_PARAMETER}=", f"{HINT_PARAMETER}=")
_NO_STORE = (b"cache-control", b"private, no-store")
_NO_BODY: Message = {"type": "http.response.body", "body": b""}
_BURST_WINDOW = timedelta(seconds=2)
_CLICK_METHODS = ("GET", "HEAD")
Headers = tuple[tuple[bytes, bytes], ...]
CLICK_COLUMNS = (
    "link_id",
    "clicked_at",
    "recipient_id",
    "ip",
    "user_agent",
    "referrer",
    "method",
    "is_bot",
    "bot_reasons",
    "visitor",
    "identified",
    "url",
)


class Redirector:
    """The ASGI handler for short links."""

    def __init__(self, state: ServerState, extra_headers: Headers = ()) -> None:
        self.state = state
        self._extra = extra_headers  # put in every answer (`server_header` in `create_app`)
        self._classify = _memoised_classify(state.bot_rules)
        self._clock = ClickClock()
        self._hints: dict[tuple[str, int], str] = {}
        self._hinted: dict[tuple[str, int, str], str] = {}
        self._hint_second: ClickSecond | None = None
        self._fast_click = timedelta(seconds=state.bot_rules.fast_click_seconds)
        self._long_ago = _NAIVE_EPOCH  # sends up to this time are not recent in this second

    def _new_second(self, second: ClickSecond) -> None:
        self._hint_second = second
        self._hints = {}
        self._hinted = {}
        self._long_ago = second.start - self._fast_click

    def _hint(self, public_id: str, workspace_id: int, second: ClickSecond, micro: int) -> str:
        """The identity hint, signed once per recipient a second: it holds the time in whole
        seconds, so every click of that second would sign the same bytes again."""
        if second is not self._hint_second:
            self._new_second(second)
        key = (public_id, workspace_id)
        hint = self._hints.get(key)
        if hint is None:
            hint = self.state.hints.hint(public_id, str(workspace_id), second.at(micro))
            if len(self._hints) < 10_000:
                self._hints[key] = hint
        return hint

    def _hinted_target(
        self, target: str, public_id: str, workspace_id: int, second: ClickSecond, micro: int
    ) -> str:
        """`target` with the recipient's hint, built once per recipient and target a second
        (the same string then, so its hash is cached for `_redirect_start` as well)."""
        hint = self._hint(public_id, workspace_id, second, micro)  # starts a new second
        key = (public_id, workspace_id, target)
        location = self._hinted.get(key)
        if location is None:
            location = append_query(target, [f"{HINT_PARAMETER}={hint}"])
            if len(self._hinted) < 10_000:
                self._hinted[key] = location
        return location

    def _long_past(self, sent_at: datetime, second: ClickSecond) -> bool:
        """Whether a send is at least `fast_click_seconds` before every click of `second`."""
        if second is not self._hint_second:
            self._new_second(second)
        return sent_at <= self._long_ago

    async def __call__(self, scope: Scope, _receive: Receive, send: Send) -> None:
        """The ASGI handler: the request's parts read from its scope, the answer sent."""
        user_agent = referer = ""
        signals: tuple[tuple[str, str], ...] = ()  # the prefetch headers, rarely any
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"referer":
                referer = value.decode("latin-1")
            elif name in _PREFETCH_HEADERS:
                signals += ((name.decode(), value.decode("latin-1")),)
        client = scope.get("client")
        method = scope["method"]
        answer = await self.click(
            scope["path"][1:],
            method,
            user_agent,
            referer,
            signals,
            scope["query_string"].decode("latin-1"),
            client[0] if client else None,
        )
        await send(answer.start)
        await send(answer.head_body if method == "HEAD" else answer.body)

    async def click(
        self,
        code: str,
        method: str,
        user_agent: str,
        referer: str,
        signals: tuple[tuple[str, str], ...],
        query: str,
        ip: str | None,
    ) -> Answer:
        """The answer to a click on `code` (GET or HEAD): its 302 once the click is stored,
        or the page saying why not. Each server's adapter reads the request and sends this."""
        state = self.state
        link = state.cache.cached(code)
        if link is False:
            link = await state.cache.get(code)
        second, micro = self._clock.now()  # kept: other clicks move the clock on meanwhile
        if link is None:
            return _page(404, pages.NOT_FOUND, self._extra)
        if link.disabled or (link.expires_at is not None and link.expires_at <= second.at(micro)):
            return _page(410, pages.GONE, self._extra)
        recipient = link.recipient  # a per-recipient code names its recipient itself
        if query and recipient is None:
            token = _parameter(query, TOKEN_PARAMETER)
            if token:
                public_id = state.tokens.recipient(token, code)
                if public_id is not None:
                    found = await state.recipient(public_id)
                    if found is not None and found.workspace_id == link.workspace_id:
                        recipient = found
        extra: list[str] = []
        if link.forward_query and query:
            extra = _forwarded(query, link.target)
        identified = recipient is not None and link.identify and method == "GET"
        if identified and not extra:  # the usual click of a recipient
            assert recipient is not None
            public_id = recipient.public_id
            location = self._hinted_target(link.target, public_id, link.workspace_id, second, micro)
        else:
            if identified:
                assert recipient is not None
                hint = self._hint(recipient.public_id, link.workspace_id, second, micro)
                extra.append(f"{HINT_PARAMETER}={hint}")
            location = append_query(link.target, extra) if extra else link.target
        try:  # before the click is written: a click is stored only if its 302 can be sent
            redirect = _redirect(location, self._extra)
        except ValueError:
            logger.error("link %s has a destination no Location header can carry", code)
            return _page(500, pages.BROKEN, self._extra)
        visitor = visitor_hash(
            state.secret, second.day, ip or "", user_agent, str(link.workspace_id)
        )
        recipient_id = None
        since_send = None
        if recipient is not None:
            recipient_id = recipient.id
            sent = link.sent_at  # a per-recipient code: the message's send came with it
            if link.recipient is None:
                sent = await anyio.to_thread.run_sync(
                    last_send_before, state.engine, recipient_id, link.campaign_id, second.at(micro)
                )
            elif sent is not None and (self._long_past(sent, second) or sent > second.at(micro)):
                sent = None  # long past: the verdict of no send (below); a later one: no send
            if sent is not None:
                since_send = (second.at(micro) - sent).total_seconds()
        who: object = recipient_id if recipient_id is not None else visitor
        others = state.recent.record((who, link.campaign_id), link.id)
        if since_send is None or since_send >= state.bot_rules.fast_click_seconds:
            # a send long enough ago gives the verdict of no send: the memoised one
            verdict = self._classify(
                method, user_agent, referer, signals, ip, link.honeypot, others
            )
        else:
            headers = _bot_headers(referer, signals)
            facts = ClickFacts(method, user_agent, headers, ip, link.honeypot, since_send, others)
            verdict = classify_click(facts, state.bot_rules)
        url = None  # a human click's landing URL is its touchpoint (read in service/journeys)
        if not verdict.is_bot:
            url = redirect.stored_url  # no hint, no email or phone number (forward_query)
        row = (
            link.id,
            second.text(micro) if state.times_as_text else second.at(micro),
            recipient_id,
            anonymize_ip(ip) if ip else None,
            user_agent[:512],
            referrer_origin(referer),
            method,
            verdict.is_bot,
            " ".join(verdict.reasons),
            visitor,
            identified,
            url,
        )
        try:
            await state.writer.write_row(clicks, CLICK_COLUMNS, row)
        except StoreError:
            logger.error("click on %s not stored; answering 503", code)
            return _page(503, pages.UNAVAILABLE, self._extra)
        if verdict.is_bot and "burst" in verdict.reasons:
            since = second.at(micro) - _BURST_WINDOW
            await state.writer.call(
                flag_burst,
                campaign_id=link.campaign_id,
                recipient_id=recipient_id,
                visitor=visitor,
                since=since,
            )
        return redirect


def _memoised_classify(rules: BotRules) -> Callable[..., BotVerdict]:
    """`classify_click` under `rules` for a click with no known send, memoised (the common
    case). The rules are not part of the key: hashing them ran Python code on every click."""

    @lru_cache(maxsize=16384)
    def classify(
        method: str,
        user_agent: str,
        referer: str,
        signals: tuple[tuple[str, str], ...],
        ip: str | None,
        honeypot: bool,
        others: int,
    ) -> BotVerdict:
        facts = ClickFacts(
            method, user_agent, _bot_headers(referer, signals), ip, honeypot, None, others
        )
        return classify_click(facts, rules)

    return classify


def _bot_headers(referer: str, signals: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The headers `classify_click` reads: the referrer and the prefetch headers."""
    return dict(signals, referer=referer) if referer else dict(signals)


@dataclass(frozen=True, slots=True)
class ClickSecond:
    """One second of the click clock; a click's time is its start plus the click's
    microseconds, as `text` (SQLite's form, as `store_time` writes it) or `at` (a datetime)."""

    start: datetime
    prefix: str  # `YYYY-MM-DD HH:MM:SS`
    day: date

    def text(self, micro: int) -> str:
        return f"{self.prefix}.{micro:06d}"

    def at(self, micro: int) -> datetime:
        return self.start + timedelta(microseconds=micro)


class ClickClock:
    """Click times, naive UTC as the store keeps them: the calendar work is done once a second
    (as nginx caches its time strings) and each click adds only its microseconds.
    `datetime.now` + `isoformat` took 2.5 µs a click; `now` + `text` take 0.4."""

    def __init__(self) -> None:
        self._second = -1
        self._current = ClickSecond(_NAIVE_EPOCH, "", _NAIVE_EPOCH.date())

    def now(self) -> tuple[ClickSecond, int]:
        """The current second and the microseconds into it."""
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        if second != self._second:
            self._second = second
            start = _NAIVE_EPOCH + timedelta(seconds=second)
            self._current = ClickSecond(start, start.isoformat(" "), start.date())
        return self._current, micro


def referrer_origin(referer: str) -> str:
    """Only `scheme://host[:port]` of a referrer is kept: its path and query can carry personal
    data (a webmail URL with an address in it), and channels need only the host."""
    if not referer:
        return ""
    try:
        parts = urlsplit(referer.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https", "android-app") or not parts.hostname:
        return ""
    suffix = f":{port}" if port else ""
    return f"{parts.scheme}://{parts.hostname}{suffix}"[:255]


def _parameter(query: str, name: str) -> str | None:
    prefix = name + "="
    for piece in query.split("&"):
        if piece.startswith(prefix):
            return piece[len(prefix) :]
    return None


def _forwarded(query: str, target: str) -> list[str]:
    """The incoming query pieces a link forwards: never ours, never a name the target already
    has (the destination's own parameters win), never anything but printable ASCII."""
    base = target.split("#", 1)[0]
    own = {name for name, _ in parse_qsl(base.partition("?")[2], keep_blank_values=True)}
    kept = []
    for piece in query.split("&"):
        if not piece or piece.startswith(_OWN) or not _SAFE_PIECE.fullmatch(piece):
            continue
        if "#" in piece or piece.partition("=")[0] in own:
            continue
        kept.append(quote(piece, safe="=%+-._~!$'()*,;:@/?"))
    return kept


@dataclass(frozen=True, slots=True)
class Answer:
    """A redirect's or a page's answer, in the form of each server interface: ASGI's start and
    body messages, RSGI's status, headers and body. Built once per location or page."""

    status: int
    start: Message  # ASGI's `http.response.start`
    body: Message  # ASGI's `http.response.body`
    head_body: Message  # the same for HEAD: no body
    headers: list[tuple[str, str]]  # RSGI's
    payload: bytes  # RSGI's body (HEAD: the server sends none)
    stored_url: str | None = None  # a redirect's: the landing URL a human click stores


def _answer(
    status: int, headers: list[tuple[bytes, bytes]], payload: bytes, stored_url: str | None = None
) -> Answer:
    return Answer(
        status,
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": payload},
        _NO_BODY,
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
        payload,
        stored_url,
    )


@lru_cache(maxsize=4096)
def _redirect(location: str, extra: Headers) -> Answer:
    """The 302 to `location`, and the URL a human click on it stores (`strip_hint`), built
    once per location (the servers only read it). Raises ValueError when `location` is not
    printable ASCII (a header cannot carry it)."""
    if not _LOCATION.fullmatch(location):
        raise ValueError(f"not a valid Location: {location!r}")
    headers = [
        (b"location", location.encode("latin-1")),
        _NO_STORE,
        (b"content-length", b"0"),
        (b"referrer-policy", b"no-referrer-when-downgrade"),
        *extra,
    ]
    return _answer(302, headers, b"", strip_hint(location))


@lru_cache(maxsize=16)
def _page(status: int, body: bytes, extra: Headers) -> Answer:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        _NO_STORE,
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    return _answer(status, headers, body)


def is_link_path(path: str) -> bool:
    """A single path segment that can be a short-link code."""
    return len(path) > 1 and "/" not in path[1:]


def is_click(method: str, path: str) -> bool:
    """A request the redirect answers: GET or HEAD of a path that can be a code."""
    return (
        method in _CLICK_METHODS and is_link_path(path) and path[1:].lower() not in RESERVED_CODES
    )
