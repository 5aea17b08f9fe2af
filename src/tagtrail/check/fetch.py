"""One request of a chain: send it through the guarded client, read at most 64 KiB, learn TLS.

Driver errors (`httpx.TransportError` and friends) stop here: a hop that could not be fetched
comes back as a `Fetched` with `error` set, worded for people.
"""

from __future__ import annotations

import errno
import logging
import ssl
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx

from tagtrail.check.tls import TlsInfo, tls_info
from tagtrail.errors import Blocked

logger = logging.getLogger(__name__)

#: The most the checker reads of any answer (S4): enough for `<meta>` refreshes and scripts.
READ_CAP = 64 * 1024
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int | None
    headers: httpx.Headers
    body: bytes
    tls: TlsInfo | None
    bytes_read: int = 0
    error: str | None = None


def _cert_error(exc: BaseException) -> str | None:
    """The certificate-verification message hidden in an httpx exception chain, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return str(current.verify_message or current.reason or current)
        current = current.__cause__ or current.__context__
    return None


def _root_oserror(exc: BaseException) -> OSError | None:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, OSError) and current.errno is not None:
            return current
        current = current.__cause__ or current.__context__
    return None


def describe(exc: Exception, url: httpx.URL) -> str:
    """A one-line, human explanation of why a request failed."""
    where = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    if isinstance(exc, Blocked):
        return f"blocked: {exc.reason}"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection to {where} timed out"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        root = _root_oserror(exc)
        if root is not None and root.errno == errno.ECONNREFUSED:
            return f"connection refused by {where}"
        text = str(exc) or type(exc).__name__
        if text.startswith("DNS lookup failed"):
            return text
        return f"cannot connect to {where}: {text}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return f"HTTP protocol error from {where}: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _wants_body(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    encoding = response.headers.get("content-encoding", "identity").lower()
    return ("html" in kind or not kind) and encoding in ("", "identity")


async def _read(client: httpx.AsyncClient, url: httpx.URL, timeout: httpx.Timeout) -> Fetched:
    async with client.stream("GET", url, timeout=timeout) as response:
        stream = response.extensions.get("network_stream")
        ssl_object = None if stream is None else stream.get_extra_info("ssl_object")
        tls = None
        if url.scheme == "https":
            tls = tls_info(ssl_object, url.host, now=datetime.now(UTC))
        body = bytearray()
        if _wants_body(response):
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) >= READ_CAP:
                    break
        return Fetched(
            response.status_code,
            response.headers,
            bytes(body[:READ_CAP]),
            tls,
            bytes_read=min(len(body), READ_CAP),
        )


async def fetch(
    url: httpx.URL,
    *,
    client: httpx.AsyncClient,
    insecure: httpx.AsyncClient,
    remaining: float,
) -> Fetched:
    """GET `url`; on a refused certificate, fetch again unverified to report what it was."""
    timeout = httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT, remaining))
    try:
        return await _read(client, url, timeout)
    except (httpx.HTTPError, Blocked) as exc:
        cert_error = _cert_error(exc) if isinstance(exc, httpx.ConnectError) else None
        if cert_error is None:
            logger.debug("hop %s failed", url, exc_info=True)
            return Fetched(None, httpx.Headers(), b"", None, error=describe(exc, url))
    logger.debug("certificate of %s refused: %s", url, cert_error)
    try:
        fetched = await _read(insecure, url, timeout)
    except (httpx.HTTPError, Blocked) as exc:
        tls = TlsInfo(None, False, None, None, None, None, cert_error)
        return Fetched(None, httpx.Headers(), b"", tls, error=describe(exc, url))
    assert fetched.tls is not None
    tls = replace(fetched.tls, cert_valid=False, error=cert_error)
    return Fetched(fetched.status, fetched.headers, fetched.body, tls, fetched.bytes_read)
