"""Dashboard sign-in: an admin key → a signed session cookie (HttpOnly, SameSite=Strict), and a
CSRF token on every form.

The cookie holds the key's id, its workspace, a random CSRF nonce and a random session id,
signed with the server's secret (itsdangerous, 12-hour lifetime). Every request checks that the
session is still open in the store (`service.dashboard_sessions`: signing out ends it) and that
its key is not revoked. Before sign-in, the login form's token is a double submit: a random
nonce in a short-lived `tt_login` cookie that the form must repeat. Tokens are compared as
UTF-8 bytes in constant time, so any text (non-ASCII too) is a wrong token, never an error."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine

from tagtrail.service.dashboard_sessions import session_alive

COOKIE = "tt_session"
LOGIN_COOKIE = "tt_login"
MAX_AGE = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    key_id: int
    workspace_id: int
    csrf: str
    session_id: str

    def valid_csrf(self, token: str | None) -> bool:
        return same_token(self.csrf, token)


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="tagtrail-dashboard")

    def cookie(self, key_id: int, workspace_id: int, session_id: str) -> str:
        """The signed cookie of the session `session_id` (opened with `open_session`)."""
        return self._serializer.dumps([key_id, workspace_id, secrets.token_urlsafe(24), session_id])

    def read(self, engine: Engine, cookie: str | None, *, now: datetime) -> Session | None:
        """The session of a cookie whose signature, age, session and key are all still good."""
        if not cookie:
            return None
        try:
            key_id, workspace_id, csrf, session_id = self._serializer.loads(cookie, max_age=MAX_AGE)
            session = Session(int(key_id), int(workspace_id), str(csrf), str(session_id))
        except (BadSignature, ValueError, TypeError):
            return None
        alive = session_alive(
            engine,
            session.session_id,
            session.key_id,
            session.workspace_id,
            now=now,
            max_age=MAX_AGE,
        )
        return session if alive else None


def same_token(expected: str | None, given: str | None) -> bool:
    """Whether `given` is the token `expected`: constant time, on UTF-8 bytes (hmac refuses
    non-ASCII text with TypeError, which was a 500)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(_bytes(expected), _bytes(given))


def _bytes(token: str) -> bytes:
    return str(token).encode("utf-8", "surrogatepass")
