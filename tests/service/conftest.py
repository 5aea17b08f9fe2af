"""The service tests run on the store fixtures: SQLite in a temporary folder and PostgreSQL."""

from __future__ import annotations

from tests.store.conftest import engine, secret, store_url

__all__ = ["engine", "secret", "store_url"]
