"""httpx clients whose connections go to the address the guard vetted (S2).

httpcore asks its network backend to `connect_tcp(host, port)` with the URL's host name and
later starts TLS with that same name as SNI. The backend here resolves the name through the
guard, refuses it if any address is not allowed, and connects to a vetted address itself: the
Host header, SNI and certificate hostname check keep the original name.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore
import httpx

from tagtrail.check.guard import Guard

USER_AGENT = "Mozilla/5.0 (compatible; tagtrail-check/0.1; +https://github.com/tagtrail)"
HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "Accept-Encoding": "identity",
}


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to addresses the guard has vetted."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.vet(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"DNS lookup failed for {host}: {_oserror(exc)}") from exc
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _oserror(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over a `PinnedBackend` (no proxies, no environment)."""

    def __init__(self, guard: Guard, *, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(guard),
        )


def insecure_context() -> ssl.SSLContext:
    """A context that accepts any certificate (used only to learn why one was refused)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def make_client(
    guard: Guard, *, ssl_context: ssl.SSLContext, concurrency: int
) -> httpx.AsyncClient:
    """A client that never follows redirects, keeps no cookies and ignores proxy variables."""
    limits = httpx.Limits(
        max_connections=max(concurrency * 2, 10),
        max_keepalive_connections=max(concurrency * 2, 10),
    )
    return httpx.AsyncClient(
        transport=PinnedTransport(guard, ssl_context=ssl_context, limits=limits),
        follow_redirects=False,
        trust_env=False,
        headers=HEADERS,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )
