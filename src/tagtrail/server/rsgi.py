"""The server on Granian's own interface, RSGI (`tagtrail serve`'s default, issue 21).

A click (`GET|HEAD /{code}`) is read straight from Granian's request and answered with one call
(`Redirector.click`, the same code as under ASGI); every other request goes to the ASGI app
through a small bridge (`_Bridge`), as Granian's ASGI interface would hand it over. Granian runs
one interface per server, so this is how the one fast route and the FastAPI app share it. The
ASGI app's lifespan (the store, the writer) runs when the worker starts and stops
(`__rsgi_init__`, `__rsgi_del__`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tagtrail.server.redirect import Redirector, is_click

logger = logging.getLogger(__name__)

_ASGI = {"version": "3.0", "spec_version": "2.3"}
_PREFETCH = ("purpose", "sec-purpose", "x-purpose", "x-moz")


class RSGIApp:
    """Clicks answered natively, everything else by `asgi` (already wrapped in the proxy
    middleware when proxies are trusted); `client` gives a click's client address."""

    def __init__(self, asgi: ASGIApp, redirector: Redirector, client: ClientAddress) -> None:
        self._asgi = asgi
        self._redirector = redirector
        self._client = client
        self._lifespan = _Lifespan(asgi)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._lifespan.startup())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._lifespan.shutdown())

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        method = scope.method
        if is_click(method, scope.path):
            await self._click(scope, protocol, method)
        else:
            await _Bridge(scope, protocol, self._lifespan.state).run(self._asgi)

    async def _click(self, scope: Any, protocol: Any, method: str) -> None:
        headers = scope.headers
        signals: tuple[tuple[str, str], ...] = ()  # the prefetch headers, rarely any
        for name in _PREFETCH:
            value = headers.get(name)
            if value is not None:
                signals += ((name, value),)
        client = self._client
        ip = await client.behind_proxy(scope) if client.proxied else _host(scope.client)
        answer = await self._redirector.click(
            scope.path[1:],
            method,
            headers.get("user-agent", ""),
            headers.get("referer", ""),
            signals,
            scope.query_string,
            ip,
        )
        if answer.payload:
            protocol.response_bytes(answer.status, answer.headers, answer.payload)
        else:
            protocol.response_empty(answer.status, answer.headers)


class ClientAddress:
    """A click's client address: the peer's, or, from one of the `trusted` proxies, the one
    its X-Forwarded-For names, as uvicorn's ProxyHeadersMiddleware (which every other request
    goes through) decides it."""

    def __init__(self, trusted: str | list[str] | None) -> None:
        self.proxied = bool(trusted)
        self._proxy = ProxyHeadersMiddleware(_nothing, trusted) if trusted else None

    async def behind_proxy(self, scope: Any) -> str | None:
        assert self._proxy is not None
        peer = _address(scope.client)
        forwarded = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in scope.headers.items()
            if name == "x-forwarded-for"
        ]
        asgi: Scope = {"type": "http", "client": peer, "headers": forwarded}
        await self._proxy(asgi, _nothing, _nothing)  # type: ignore[arg-type]  # sets the client
        client = asgi["client"]
        return client[0] if client else None


async def _nothing(*_args: Any) -> Any:
    return None


def _host(address: str) -> str | None:
    """`1.2.3.4:5` → `1.2.3.4`, `[::1]:5` → `::1` (RSGI gives addresses as text)."""
    host = address.rpartition(":")[0]
    return host.strip("[]") or None


def _address(address: str) -> tuple[str, int] | None:
    host, _, port = address.rpartition(":")
    if not host:
        return None
    return host.strip("[]"), int(port) if port.isdigit() else 0


class _Bridge:
    """One RSGI request handed to an ASGI app: the body passed on as Granian reads it, the
    answer sent in one piece unless the app streams it."""

    def __init__(self, scope: Any, protocol: Any, state: dict[str, Any]) -> None:
        self._protocol = protocol
        self._body: Any = None  # the body's chunks, once asked for
        self._read = False
        self._status = 500
        self._headers: list[tuple[str, str]] = []
        self._started = self._done = False
        self._stream: Any = None
        self.scope: Scope = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": scope.http_version,
            "method": scope.method,
            "scheme": scope.scheme,
            "path": scope.path,
            "query_string": scope.query_string.encode("latin-1"),
            "root_path": "",
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in scope.headers.items()
            ],
            "client": _address(scope.client),
            "server": _address(scope.server),
            "state": dict(state),
        }

    async def run(self, app: ASGIApp) -> None:
        await app(self.scope, self.receive, self.send)
        if self._started and not self._done:  # a start and no body
            self._protocol.response_empty(self._status, self._headers)

    async def receive(self) -> Message:
        if not self._read:
            if self._body is None:
                self._body = aiter(self._protocol)
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                self._read = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": bytes(chunk), "more_body": True}
        await self._protocol.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._status = message["status"]
            self._headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
            self._started = True
            return
        if kind != "http.response.body" or self._done:
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self._stream is None:
            if not more:
                self._done = True
                self._protocol.response_bytes(self._status, self._headers, body)
                return
            self._stream = self._protocol.response_stream(self._status, self._headers)
        self._done = not more
        if body:
            try:
                await self._stream.send_bytes(body)
            except RuntimeError as exc:  # Granian's ProtocolClosed: the client went away
                raise OSError(f"the client went away: {exc}") from None


class _Lifespan:
    """The ASGI app's lifespan, driven as an ASGI server drives it."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self.state: dict[str, Any] = {}
        self._messages: asyncio.Queue[Message] = asyncio.Queue()
        self._answers: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        try:
            await self._app(scope, self._messages.get, self._answers.put)
        except BaseException as exc:
            logger.exception("the app's lifespan failed")
            await self._answers.put({"type": "lifespan.failed", "message": str(exc)})

    async def _step(self, kind: str) -> None:
        await self._messages.put({"type": f"lifespan.{kind}"})
        answer = await self._answers.get()
        if answer["type"] != f"lifespan.{kind}.complete":
            logger.error("the app's lifespan %s failed: %s", kind, answer.get("message", ""))
            raise SystemExit(1)

    async def startup(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._step("startup")

    async def shutdown(self) -> None:
        if self._task is not None and not self._task.done():
            await self._step("shutdown")
            await self._task
