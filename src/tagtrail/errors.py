"""The one error tree of tagtrail.

    TagtrailError
    ├── InvalidLink          a URL or UTM value the link builder cannot accept
    ├── InvalidInput         a file, option or value a command cannot read
    │   └── InvalidSettings  a flag, `TAGTRAIL_*` variable or `.env` line that is not valid
    ├── InvalidEvent         a tracking payload (Segment's HTTP API) that fails validation
    │   └── EventTooLarge    an event or batch over Segment's size limits (32 KB / 500 KB)
    ├── PolicyError          a naming-policy file that cannot be read or is malformed
    ├── RedirectError        misuse of the redirect checker (broken hops are data, not errors)
    │   ├── RedirectLoop
    │   └── TooManyRedirects
    ├── StoreError
    │   ├── NotFound
    │   ├── Conflict
    │   └── MigrationError
    └── AuthError            a missing, unknown or revoked API key

Domain errors know nothing about HTTP or exit codes: the CLI and the server translate them at
their edges. Every error carries a message that says what is wrong and, where there is one, a
`hint` that says what to do instead.
"""

from __future__ import annotations

from typing import Any


class TagtrailError(Exception):
    """Base class of every error tagtrail raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} ({self.hint})"


class InvalidLink(TagtrailError):
    """A URL or UTM value that the link builder refuses (`issues`: the builder's result)."""

    def __init__(self, message: str, *, hint: str | None = None, issues: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.issues = issues


class InvalidInput(TagtrailError):
    """An input file, option or value that cannot be read."""


class InvalidSettings(InvalidInput):
    """A setting that is not valid: the CLI reports it as a usage error (exit 2)."""


class InvalidEvent(TagtrailError):
    """A tracking payload that fails validation (`errors`: one message per field, in order)."""

    def __init__(
        self, message: str, *, hint: str | None = None, errors: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.errors = errors


class EventTooLarge(InvalidEvent):
    """An event over 32 KB or a batch over 500 KB (the server answers 413)."""


class PolicyError(TagtrailError):
    """A naming policy (`tagtrail.toml`, section `[naming]`) that is malformed."""


class RedirectError(TagtrailError):
    """Misuse of the redirect checker."""


class RedirectLoop(RedirectError):
    """A redirect chain that visits the same URL twice."""


class TooManyRedirects(RedirectError):
    """A redirect chain longer than the allowed number of hops."""


class StoreError(TagtrailError):
    """A failure of the online store."""


class NotFound(StoreError):
    """A record that does not exist."""


class Conflict(StoreError):
    """A record that already exists (a short-link code that is taken)."""


class MigrationError(StoreError):
    """A migration that cannot be applied."""


class AuthError(TagtrailError):
    """A missing, unknown or revoked API key."""


class TooManyAttempts(TagtrailError):
    """Too many failed sign-ins or API keys from one address: wait `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many failed sign-ins or API keys from this address",
            hint=f"wait {retry_after} s, then use a valid key",
        )
        self.retry_after = retry_after
