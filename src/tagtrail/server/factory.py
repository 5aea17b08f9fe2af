"""`uvicorn tagtrail.server.factory:app --factory`: the app built from `TAGTRAIL_*` settings
(how `tagtrail serve --workers N` starts each worker process)."""

from __future__ import annotations

from starlette.types import ASGIApp

from tagtrail.server.app import create_app
from tagtrail.settings import Settings


def app() -> ASGIApp:
    return create_app(Settings())
