"""Request body limits for the API and dashboard routes, reading a CSV body, and the limit on
failed authentication per client address.

Every API route uses `LimitedRoute`: a body longer than the route's limit is refused with 413
(and the usual error body) before more than the limit is read. The limit is 64 KiB unless the
route sets `openapi_extra=body_limit(n)`, which also shows it in the OpenAPI document.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message

from tagtrail.errors import InvalidInput, TooManyAttempts

KiB = 1024
MiB = 1024 * KiB
JSON_LIMIT = 64 * KiB
_KEY = "x-max-body-bytes"


def body_limit(limit: int, *, csv: bool = False, example: str = "") -> dict[str, Any]:
    """`openapi_extra` for a route whose body may be up to `limit` bytes (a CSV text if
    `csv`: the body is then read by the route itself, not by FastAPI)."""
    extra: dict[str, Any] = {_KEY: limit}
    if csv:
        extra["requestBody"] = {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": example}},
        }
    return extra


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"the request body is larger than this route accepts ({limit:,} bytes)"
    )


class LimitedRoute(APIRoute):
    """An APIRoute that refuses bodies over its limit with 413."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = int((self.openapi_extra or {}).get(_KEY, JSON_LIMIT))

        async def limited(request: Request) -> Response:
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise too_large(limit)
            received = 0
            upstream = request.receive

            async def receive() -> Message:
                nonlocal received
                message = await upstream()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise too_large(limit)
                return message

            return await handler(Request(request.scope, receive))

        return limited


async def read_csv(request: Request) -> str:
    """The request body as text (UTF-8, with or without a byte-order mark)."""
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("the request body is empty", hint="send the CSV text as the body")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the body is not UTF-8 text (byte {exc.start})", hint="save the CSV as UTF-8"
        ) from None


class AuthFailures:
    """Failed authentications per client address over a sliding window (per server process).

    After `limit` failures within `window` seconds an address is refused (`TooManyAttempts`,
    429 with `Retry-After`) until its oldest failure is `window` seconds old, before its key is
    even looked up; a valid key is not counted. 150 wrong keys in 0.9 s all got a 401 before.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def check(self, address: str) -> None:
        """Raise `TooManyAttempts` if `address` has used up its failures."""
        failures = self._failures.get(address)
        if not failures:
            return
        now = self._clock()
        while failures and now - failures[0] >= self._window:
            failures.popleft()
        if len(failures) >= self._limit:
            raise TooManyAttempts(max(1, math.ceil(self._window - (now - failures[0]))))

    def failed(self, address: str) -> None:
        """Count one failure of `address`."""
        now = self._clock()
        if len(self._failures) >= 100_000:  # bounded: forget the addresses whose window ended
            self._failures = {
                a: f for a, f in self._failures.items() if f and now - f[-1] < self._window
            }
        failures = self._failures.setdefault(address, deque(maxlen=self._limit))
        failures.append(now)
