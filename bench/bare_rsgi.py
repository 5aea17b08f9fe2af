"""The same bare 302 as `bench/bare_asgi.py` on Granian's own interface, RSGI: the ceiling of a
Python handler under Granian when the server does not build ASGI's scope and messages."""

from __future__ import annotations

import os
from typing import Any

_HEADERS = [
    ("location", os.environ.get("BARE_LOCATION", "https://example.com/")),
    ("cache-control", "private, no-store"),
    ("referrer-policy", "no-referrer-when-downgrade"),
    ("server", ""),
]


async def app(_scope: Any, protocol: Any) -> None:
    protocol.response_empty(302, _HEADERS)
