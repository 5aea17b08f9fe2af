"""The redirect benchmark's second anchor: the least an ASGI app can do under the same server
as `tagtrail serve` (uvicorn with uvloop and httptools, or Granian's ASGI interface on uvloop,
one worker) — answer every request with the same 302 and store nothing. The gap between nginx
and this is the Python server's; the gap between this and tagtrail is tagtrail's own work
(classify, hash, commit the click). `BARE_BLANK_SERVER=1` sends an empty `server` header, as
tagtrail does under Granian (which otherwise names itself)."""

from __future__ import annotations

import os

from starlette.types import Receive, Scope, Send

_HEADERS = [
    (b"location", os.environ.get("BARE_LOCATION", "https://example.com/").encode("latin-1")),
    (b"cache-control", b"private, no-store"),
    (b"content-length", b"0"),
    (b"referrer-policy", b"no-referrer-when-downgrade"),
]
if os.environ.get("BARE_BLANK_SERVER") == "1":
    _HEADERS.append((b"server", b""))


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 302, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": b""})
