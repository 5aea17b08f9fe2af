"""`tagtrail.server.factory:app` (`--factory` under uvicorn or Granian): the app of each of
`tagtrail serve`'s worker processes, built from the settings `serve` read and checked (handed
over, whole, in the workers' environment while they start), or from `TAGTRAIL_*` when started
by hand."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from pydantic import SecretStr
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tagtrail.server.app import create_app, create_apps
from tagtrail.server.rsgi import ClientAddress, RSGIApp
from tagtrail.settings import Settings

#: Not a `TAGTRAIL_*` name, so that the settings model never reads it as a setting.
_HANDOVER = "_TAGTRAIL_SERVE_SETTINGS"


@contextmanager
def settings_environment(settings: Settings) -> Iterator[None]:
    """`settings` in the environment the worker processes started inside the block inherit (the
    environment, not their command line, as secrets are in it)."""
    values = settings.model_dump(mode="json")
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values[name] = value.get_secret_value()
    os.environ[_HANDOVER] = json.dumps(values)
    try:
        yield
    finally:
        os.environ.pop(_HANDOVER, None)


def _settings() -> Settings:
    handed = os.environ.get(_HANDOVER)
    return Settings() if handed is None else Settings.model_validate_json(handed)


def app() -> ASGIApp:
    """The ASGI app (`--server uvicorn`; under Granian's ASGI interface, with an empty
    `server` header, as Granian names itself in one unless the answer has one)."""
    settings = _settings()
    blank = b"" if settings.server == "granian" else None
    return _proxied(create_app(settings, server_header=blank), settings)


def rsgi_app() -> RSGIApp:
    """The RSGI app (`--server granian`): clicks natively, the rest through the ASGI app,
    every answer with an empty `server` header."""
    settings = _settings()
    served, redirector = create_apps(settings, server_header=b"")
    proxied = _proxied(served, settings)
    return RSGIApp(proxied, redirector, ClientAddress(settings.forwarded_allow_ips))


def _proxied(served: ASGIApp, settings: Settings) -> ASGIApp:
    """The client address and scheme from a trusted proxy's X-Forwarded-For and
    X-Forwarded-Proto (uvicorn's middleware, plain ASGI, under either server)."""
    if not settings.forwarded_allow_ips:
        return served
    proxied = ProxyHeadersMiddleware(served, trusted_hosts=settings.forwarded_allow_ips)  # type: ignore[arg-type]
    return cast(ASGIApp, proxied)
