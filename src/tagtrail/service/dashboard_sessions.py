"""Dashboard sign-ins kept in the store, so that one can be ended before its cookie expires.

The cookie carries a random session id; the store keeps only its SHA-256 (`dashboard_sessions`),
so a copy of the table cannot be turned into a cookie. A session is alive while its row exists,
it is younger than `max_age` seconds and its admin key is not revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from tagtrail.store.schema import api_keys, dashboard_sessions


def _hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(engine: Engine, key_id: int, *, now: datetime, max_age: float) -> str:
    """A new session for admin key `key_id`: its id (random, 32 bytes); sessions past
    `max_age` are removed on the way."""
    session_id = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            delete(dashboard_sessions).where(
                dashboard_sessions.c.created_at < now - timedelta(seconds=max_age)
            )
        )
        conn.execute(
            insert(dashboard_sessions).values(id=_hashed(session_id), key_id=key_id, created_at=now)
        )
    return session_id


def session_alive(
    engine: Engine,
    session_id: str,
    key_id: int,
    workspace_id: int,
    *,
    now: datetime,
    max_age: float,
) -> bool:
    """Whether the session is still open: not ended, not too old, its admin key not revoked."""
    with engine.connect() as conn:
        found = conn.execute(
            select(dashboard_sessions.c.id)
            .join(api_keys, api_keys.c.id == dashboard_sessions.c.key_id)
            .where(
                dashboard_sessions.c.id == _hashed(session_id),
                dashboard_sessions.c.key_id == key_id,
                dashboard_sessions.c.created_at >= now - timedelta(seconds=max_age),
                api_keys.c.workspace_id == workspace_id,
                api_keys.c.revoked_at.is_(None),
                api_keys.c.kind == "admin",
            )
        ).first()
    return found is not None


def end_session(engine: Engine, session_id: str) -> None:
    """Sign out: the session's cookie is refused from now on."""
    with engine.begin() as conn:
        conn.execute(
            delete(dashboard_sessions).where(dashboard_sessions.c.id == _hashed(session_id))
        )
