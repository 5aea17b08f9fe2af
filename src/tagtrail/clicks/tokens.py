"""Signed recipient tokens and short-lived identity hints (pure: the caller passes `now`).

Rules I1–I4 of the research (reliability-security §2.1): a per-recipient link carries an opaque
token signed with HMAC-SHA256 (itsdangerous, SHA-256 set explicitly — its default is SHA-1, and
a salt per purpose), never an email. A valid token attributes the click to the recipient; it
never authenticates anyone. Verifying never raises: anything that is not a valid token for this
link is None, and the click counts anonymously.

Key rotation (I2): both classes take a sequence of secrets; the first signs, all verify. To
rotate, put the new secret first and keep the old one after it for as long as old links live.

The payloads are base64 JSON (readable, not encrypted), so they hold opaque ids only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from itsdangerous import BadData, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode

__all__ = [
    "FUTURE_SKEW_SECONDS",
    "HINT_PARAMETER",
    "HINT_SALT",
    "MAX_TOKEN_LENGTH",
    "TOKEN_PARAMETER",
    "TOKEN_SALT",
    "IdentityHints",
    "RecipientTokens",
]

HINT_PARAMETER: Final = "tt_hint"
TOKEN_PARAMETER: Final = "r"
TOKEN_SALT: Final = "click-v1"
HINT_SALT: Final = "identity-hint-v1"
MAX_TOKEN_LENGTH: Final = 512
FUTURE_SKEW_SECONDS: Final = 60


def _keys(secrets: Sequence[bytes]) -> list[bytes]:
    """itsdangerous signs with the *last* key of its list; ours signs with the first."""
    if isinstance(secrets, (bytes, str)):
        raise TypeError("secrets must be a sequence of byte strings, not one string")
    keys = [bytes(secret) for secret in secrets]
    if not keys or not all(keys):
        raise ValueError("at least one non-empty secret is needed")
    return keys[::-1]


def _plausible(text: object) -> bool:
    """A short ASCII string whose base64 parts are canonical (checked before any HMAC).

    Unpadded base64 ignores the spare low bits of its last character, so without this check a
    signature could be spelt several ways and one token would have look-alikes that verify.
    """
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TOKEN_LENGTH or not text.isascii():
        return False
    try:
        return all(base64_encode(base64_decode(p)).decode() == p for p in text.split(".") if p)
    except (BadData, ValueError):
        return False


def _loads(serializer: URLSafeSerializer, token: str) -> Any:
    try:
        return serializer.loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None


class RecipientTokens:
    """`/{code}?r=<token>`: the recipient id and the link code, signed (rule I1).

    >>> tokens = RecipientTokens([b"a long random secret"])
    >>> tokens.recipient(tokens.token("rcp_8f2k", "spring"), "spring")
    'rcp_8f2k'
    >>> tokens.recipient(tokens.token("rcp_8f2k", "spring"), "other") is None
    True
    """

    __slots__ = ("_serializer",)

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self._serializer = URLSafeSerializer(
            _keys(secrets), salt=TOKEN_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def token(self, recipient: str, link: str) -> str:
        """The token for `recipient` (an opaque public id, never an email) on link `link`."""
        if not recipient or not link:
            raise ValueError("recipient and link must be non-empty")
        token = self._serializer.dumps({"r": recipient, "l": link})
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError(f"token longer than {MAX_TOKEN_LENGTH} characters; use shorter ids")
        return token

    def recipient(self, token: str, link: str) -> str | None:
        """The recipient id when `token` is validly signed for `link`; otherwise None.

        None for forged, tampered, truncated or over-long tokens, tokens of another link and
        non-strings. Never raises.
        """
        if not _plausible(token) or not isinstance(link, str):
            return None
        payload = _loads(self._serializer, token)
        if not isinstance(payload, dict) or payload.get("l") != link:
            return None
        recipient = payload.get("r")
        return recipient if isinstance(recipient, str) and recipient else None


class _IssuedAt(TimestampSigner):
    """A timestamp signer that stamps the time it is given instead of reading the clock."""

    def __init__(self, *args: Any, issued_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._issued_at = issued_at

    def get_timestamp(self) -> int:
        return self._issued_at


def _seconds(now: datetime) -> float:
    """POSIX seconds of `now`; a naive datetime is taken as UTC."""
    return (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).timestamp()


class IdentityHints:
    """The `tt_hint` the redirect hands the landing page: recipient + workspace, time-stamped.

    Format: itsdangerous' `URLSafeTimedSerializer` (salt `identity-hint-v1`, HMAC-SHA256) over
    `{"r": recipient, "w": workspace}`. The core has no clock, so the issue time is `now`: a
    private `TimestampSigner` subclass stamps it (a new serializer per `hint`, so nothing is
    shared between threads), and `verify` lets itsdangerous check the signature and read the
    stamp, then applies the age rules against its own `now`: older than `max_age` seconds or
    more than 60 s in the future ⇒ None.

        >>> from datetime import datetime, timezone
        >>> hints, t0 = IdentityHints([b"secret"]), datetime(2026, 5, 1, tzinfo=timezone.utc)
        >>> hints.verify(hints.hint("rcp_8f2k", "ws1", t0), "ws1", t0)
        'rcp_8f2k'
    """

    __slots__ = ("_keys", "_verifier", "max_age")

    def __init__(self, secrets: Sequence[bytes], max_age: int = 600) -> None:
        if max_age < 0:
            raise ValueError("max_age must not be negative")
        self._keys = _keys(secrets)
        self.max_age = max_age
        self._verifier = URLSafeTimedSerializer(
            self._keys, salt=HINT_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def hint(self, recipient: str, workspace: str, now: datetime) -> str:
        """A hint for `recipient` in `workspace`, issued at `now`."""
        if not recipient or not workspace:
            raise ValueError("recipient and workspace must be non-empty")
        signer_kwargs = {"digest_method": hashlib.sha256, "issued_at": int(_seconds(now))}
        serializer = URLSafeTimedSerializer(
            self._keys, salt=HINT_SALT, signer=_IssuedAt, signer_kwargs=signer_kwargs
        )
        return serializer.dumps({"r": recipient, "w": workspace})

    def verify(self, hint: str, workspace: str, now: datetime) -> str | None:
        """The recipient when `hint` is valid for `workspace` at `now`; otherwise None.

        None when forged or tampered, for another workspace, older than `max_age` seconds or
        issued more than 60 s after `now`. Never raises.
        """
        if not _plausible(hint) or not isinstance(workspace, str):
            return None
        try:
            payload, issued = self._verifier.loads(hint, return_timestamp=True)
            age = _seconds(now) - issued.timestamp()
        except (BadData, ValueError, TypeError, UnicodeError, OverflowError, OSError):
            return None
        if age > self.max_age or age < -FUTURE_SKEW_SECONDS:
            return None
        if not isinstance(payload, dict) or payload.get("w") != workspace:
            return None
        recipient = payload.get("r")
        return recipient if isinstance(recipient, str) and recipient else None
