"""Follow a link's redirect chain hop by hop and judge it (`check_url`, `check_many`).

Redirects are followed by hand, never by httpx: every hop is a separate request that passes
the guard again (S3), is timed, and is compared with the first URL's UTMs. The chain follows
HTTP 301/302/303/307/308, the `Refresh` header and `<meta http-equiv="refresh">`; a script
redirect is reported, not followed. A broken hop is data in the report, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from tagtrail.check.fetch import Fetched, fetch
from tagtrail.check.guard import Guard
from tagtrail.check.html import find_js_redirect, find_meta_refresh, parse_refresh
from tagtrail.check.results import CheckReport, Hop, RedirectKind
from tagtrail.check.rules import ChainEnd, evaluate
from tagtrail.check.transport import insecure_context, make_client
from tagtrail.check.utm import compare, scheme, url_utms
from tagtrail.errors import Blocked, RedirectError

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
OnDone = Callable[[CheckReport], None]


def next_target(fetched: Fetched) -> tuple[str | None, RedirectKind | None]:
    """Where an answer points (raw, unresolved) and how; a script redirect has no target."""
    assert fetched.status is not None
    if fetched.status in REDIRECT_STATUSES:
        location = fetched.headers.get("location")
        return (location, "http") if location else (None, None)
    refresh = fetched.headers.get("refresh")
    if refresh is not None:
        target = parse_refresh(refresh)
        if target is not None:
            return target, "refresh-header"
    if fetched.body:
        target = find_meta_refresh(fetched.body)
        if target is not None:
            return target, "meta-refresh"
        snippet = find_js_redirect(fetched.body)
        if snippet is not None:
            return snippet, "javascript"
    return None, None


def _scheme_change(previous: str | None, url: str) -> str | None:
    if previous is None:
        return None
    before, after = scheme(previous), scheme(url)
    return None if before == after else f"{before}->{after}"


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _follow(current: str, location: str) -> str:
    """The absolute URL a Location points to; browsers carry the fragment over (RFC 9110)."""
    try:
        following = urljoin(current, location.strip())
        fragment = urlsplit(current).fragment
    except ValueError:
        return location.strip()  # the next hop fails as a malformed URL
    if "#" not in following and fragment:
        following = f"{following}#{fragment}"
    return following


def _defragment(url: str) -> str:
    return url.split("#", 1)[0]


class Checker:
    """Checks links over shared, guarded connection pools; use `async with Checker() as c`.

    `guard=None` is the local mode: any address except cloud metadata endpoints. `ssl_context`
    decides which certificates are trusted (default: certifi's bundle, as httpx does).
    """

    def __init__(
        self,
        *,
        guard: Guard | None = None,
        ssl_context: ssl.SSLContext | None = None,
        concurrency: int = 16,
    ) -> None:
        self.guard = guard if guard is not None else Guard.off()
        context = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        self._client = make_client(self.guard, ssl_context=context, concurrency=concurrency)
        self._insecure = make_client(
            self.guard, ssl_context=insecure_context(), concurrency=concurrency
        )

    async def __aenter__(self) -> Checker:
        await self._client.__aenter__()
        await self._insecure.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._insecure.__aexit__(exc_type, exc, tb)
        await self._client.__aexit__(exc_type, exc, tb)

    async def _hop(
        self, url: str, previous: str | None, first: dict[str, str], deadline: float
    ) -> tuple[Hop, str | None]:
        started = time.monotonic()
        diff = compare(first, url_utms(url))
        base = Hop(
            url=url,
            status=None,
            location=None,
            redirect=None,
            elapsed_ms=0.0,
            utm=diff.present,
            utm_lost=diff.lost,
            utm_changed=diff.changed,
            scheme_change=_scheme_change(previous, url),
        )

        def failed(error: str) -> tuple[Hop, None]:
            return replace(base, elapsed_ms=_ms_since(started), error=error), None

        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            return failed(f"malformed URL: {exc}")
        if target.scheme not in ("http", "https"):
            return failed(f"unsupported scheme {target.scheme or '(none)'!r}: only http and https")
        if not target.host:
            return failed("malformed URL: no host")
        try:
            self.guard.check_url(url)
        except Blocked as exc:
            return failed(f"blocked: {exc.reason}")
        remaining = deadline - started
        if remaining <= 0:
            return failed("the time limit ran out before this hop")
        fetched: Fetched | None = None
        with anyio.move_on_after(remaining):
            fetched = await fetch(
                target, client=self._client, insecure=self._insecure, remaining=remaining
            )
        if fetched is None:
            return failed(f"no complete answer within the time limit ({remaining:.1f} s left)")
        if fetched.error is not None:
            hop = replace(base, elapsed_ms=_ms_since(started), tls=fetched.tls, error=fetched.error)
            return hop, None
        location, kind = next_target(fetched)
        hop = replace(
            base,
            status=fetched.status,
            location=location,
            redirect=kind,
            elapsed_ms=_ms_since(started),
            tls=fetched.tls,
            bytes_read=fetched.bytes_read,
        )
        return hop, (None if kind in (None, "javascript") else location)

    async def check(self, url: str, *, max_hops: int = 10, timeout: float = 10.0) -> CheckReport:
        """Follow `url`'s chain (at most `max_hops` redirects, `timeout` seconds in all)."""
        _validate(max_hops=max_hops, timeout=timeout)
        url = url.strip()
        deadline = time.monotonic() + timeout
        first = url_utms(url)
        hops: list[Hop] = []
        seen: dict[str, int] = {}
        end = ChainEnd(max_hops=max_hops)
        current, previous = url, None
        while True:
            seen.setdefault(_defragment(current), len(hops) + 1)
            hop, location = await self._hop(current, previous, first, deadline)
            hops.append(hop)
            if location is None:
                break
            following = _follow(current, location)
            if _defragment(following) in seen:
                end = ChainEnd(loop_to=seen[_defragment(following)], max_hops=max_hops)
                break
            if len(hops) > max_hops:
                end = ChainEnd(too_many=True, max_hops=max_hops)
                break
            current, previous = following, current
        checks = evaluate(hops, end)
        valid = all(item.status != "fail" for item in checks)
        logger.debug("checked %s: %d hop(s), valid=%s", url, len(hops), valid)
        return CheckReport(url, hops[-1].url, valid, tuple(hops), checks)


def _validate(*, max_hops: int, timeout: float, concurrency: int = 1) -> None:
    if max_hops < 0:
        raise RedirectError(f"max_hops must be 0 or more, not {max_hops}")
    if not timeout > 0:
        raise RedirectError(f"timeout must be more than 0 seconds, not {timeout}")
    if concurrency < 1:
        raise RedirectError(f"concurrency must be 1 or more, not {concurrency}")


async def acheck_url(
    url: str,
    *,
    max_hops: int = 10,
    timeout: float = 10.0,
    guard: Guard | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckReport:
    """Async `check_url`."""
    _validate(max_hops=max_hops, timeout=timeout)
    async with Checker(guard=guard, ssl_context=ssl_context, concurrency=1) as checker:
        return await checker.check(url, max_hops=max_hops, timeout=timeout)


async def acheck_many(
    urls: Iterable[str],
    *,
    max_hops: int = 10,
    timeout: float = 10.0,
    guard: Guard | None = None,
    concurrency: int = 16,
    on_done: OnDone | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> list[CheckReport]:
    """Async `check_many`: at most `concurrency` links in flight, reports in input order."""
    _validate(max_hops=max_hops, timeout=timeout, concurrency=concurrency)
    items = list(urls)
    results: list[CheckReport | None] = [None] * len(items)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(items)):
        queue.put_nowait(index)

    async with Checker(guard=guard, ssl_context=ssl_context, concurrency=concurrency) as checker:

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                report = await checker.check(items[index], max_hops=max_hops, timeout=timeout)
                results[index] = report
                if on_done is not None:
                    on_done(report)

        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(items))):
                group.create_task(worker())
    return [report for report in results if report is not None]


def check_url(
    url: str,
    *,
    max_hops: int = 10,
    timeout: float = 10.0,
    guard: Guard | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckReport:
    """Follow `url`'s redirect chain and report every hop and check (blocking).

    `guard` is None (local mode) or a `Guard`; `ssl_context` sets the trusted CAs. Raises
    `RedirectError` only on misuse (a negative `max_hops`, a zero `timeout`). From inside an
    event loop, await `acheck_url` instead.
    """
    coroutine = acheck_url(
        url, max_hops=max_hops, timeout=timeout, guard=guard, ssl_context=ssl_context
    )
    return asyncio.run(coroutine)


def check_many(
    urls: Iterable[str],
    *,
    max_hops: int = 10,
    timeout: float = 10.0,
    guard: Guard | None = None,
    concurrency: int = 16,
    on_done: OnDone | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> list[CheckReport]:
    """Check many links, `concurrency` at a time; `on_done(report)` fires as each one ends."""
    coroutine = acheck_many(
        urls,
        max_hops=max_hops,
        timeout=timeout,
        guard=guard,
        concurrency=concurrency,
        on_done=on_done,
        ssl_context=ssl_context,
    )
    return asyncio.run(coroutine)
