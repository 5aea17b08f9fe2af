"""The one error tree of tagtrail.

    TagtrailError
    ├── InvalidLink          a URL or UTM value the link builder cannot accept
    ├── InvalidInput         a file, option or value a command cannot read
    │   ├── InvalidOptions   options that do not go together, or a value of the wrong form
    │   └── InvalidSettings  a flag, `TAGTRAIL_*` variable or `.env` line that is not valid
    ├── InvalidEvent         a tracking payload (Segment's HTTP API) that fails validation
    │   └── EventTooLarge    an event or batch over Segment's size limits (32 KB / 500 KB)
    ├── PolicyError          a naming-policy file that cannot be read or is malformed
    ├── RedirectError        misuse of the redirect checker (broken hops are data, not errors)
    ├── Blocked              an address the checker's SSRF guard refuses (the hop reports it)
    ├── StoreError
    │   ├── NotFound
    │   ├── Conflict
    │   ├── MigrationError
    │   └── StoreNotReady    a store not created or not migrated yet (`tagtrail init`/`migrate`)
    └── AuthError            a missing, unknown or revoked API key

Domain errors know nothing about HTTP or exit codes: the CLI and the server translate them at
their edges. Every error carries a message that says what is wrong and, where there is one, a
`hint` that says what to do instead. `error_document` is the one body every front end answers
an error with: `{"ok": false, "error", "errors", "status"}` (the CLI's `--json`, the API, the
dashboard's JSON routes and the MCP tools).
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


class InvalidOptions(InvalidInput):
    """Options that do not go together, or a value of the wrong form (`option`: its name, as
    the function took it, e.g. `lookback`). The CLI answers it as a usage error (exit 2)."""

    def __init__(self, message: str, *, hint: str | None = None, option: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.option = option

    def usage_message(self) -> str:
        """The message with the option named, as click words a bad parameter."""
        if self.option is None:
            return self.message
        return f"Invalid value for {self.option!r}: {self.message}"


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


class Blocked(TagtrailError):
    """A hop the SSRF guard refused; `reason` says why in words a marketer can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreError(TagtrailError):
    """A failure of the online store."""


class NotFound(StoreError):
    """A record that does not exist."""


class Conflict(StoreError):
    """A record that already exists (a short-link code that is taken)."""


class MigrationError(StoreError):
    """A migration that cannot be applied."""


class StoreNotReady(StoreError):
    """A store that has not been created, or not migrated to this version, yet."""


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


def error_document(
    message: str, *, hint: str | None = None, status: int = 1, **extra: Any
) -> dict[str, Any]:
    """The body of a failed request or command: `errors` is the message, then the hint (or, with
    `errors=`, the given list); `status` the HTTP status or exit code; `extra` keys follow."""
    errors = extra.pop("errors", None)
    if errors is None:
        errors = [message] if hint is None else [message, hint]
    return {"ok": False, "error": message, "errors": list(errors), "status": status, **extra}


def document_of(exc: TagtrailError, *, status: int) -> dict[str, Any]:
    """`error_document` of a domain error (with the builder's `issues` for a refused link)."""
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidLink) and exc.issues is not None:
        extra["issues"] = [issue.to_json() for issue in exc.issues.issues]
    return error_document(exc.message, hint=exc.hint, status=status, **extra)
