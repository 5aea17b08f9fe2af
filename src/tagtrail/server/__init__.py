"""The tagtrail server: the redirect hot path, the JSON API, and later the collector and
dashboard. `create_app(settings)` builds it; `tagtrail serve` runs it under uvicorn."""

from __future__ import annotations

from tagtrail.server.app import create_app

__all__ = ["create_app"]
