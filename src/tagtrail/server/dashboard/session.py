"""Dashboard sign-in: an admin key → a signed session cookie (HttpOnly, SameSite=Strict), and a
CSRF token on every form.

The cookie holds the key's id, its workspace and a random CSRF nonce, signed with the server's
secret (itsdangerous, 12-hour lifetime); every request re-checks that the key is not revoked.
Before sign-in, the login form's token is a double submit: a random nonce in a short-lived
`tt_login` cookie that the form must repeat."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, select

from tagtrail.store.schema import api_keys

COOKIE = "tt_session"
LOGIN_COOKIE = "tt_login"
MAX_AGE = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    key_id: int
    workspace_id: int
    csrf: str

    def valid_csrf(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.csrf)


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="tagtrail-dashboard")

    def issue(self, key_id: int, workspace_id: int) -> str:
        return self._serializer.dumps([key_id, workspace_id, secrets.token_urlsafe(24)])

    def read(self, engine: Engine, cookie: str | None) -> Session | None:
        """The session of a cookie whose signature, age and key are all still good."""
        if not cookie:
            return None
        try:
            key_id, workspace_id, csrf = self._serializer.loads(cookie, max_age=MAX_AGE)
        except (BadSignature, ValueError, TypeError):
            return None
        with engine.connect() as conn:
            alive = conn.execute(
                select(api_keys.c.id).where(
                    api_keys.c.id == int(key_id),
                    api_keys.c.workspace_id == int(workspace_id),
                    api_keys.c.revoked_at.is_(None),
                    api_keys.c.kind == "admin",
                )
            ).first()
        return Session(int(key_id), int(workspace_id), str(csrf)) if alive else None


def same_token(cookie: str | None, form: str | None) -> bool:
    return bool(cookie) and bool(form) and hmac.compare_digest(str(cookie), str(form))
