"""The values a check returns: one `Hop` per request, one `Check` per rule, a `CheckReport`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from tagtrail.check.tls import TlsInfo

CheckStatus: TypeAlias = Literal["pass", "warn", "fail"]
#: How a hop pointed to the next: an HTTP 3xx, a `Refresh` header, a `<meta>` refresh, or a
#: script redirect (detected, never followed).
RedirectKind: TypeAlias = Literal["http", "refresh-header", "meta-refresh", "javascript"]
CHECK_NAMES: tuple[str, ...] = (
    "resolution",
    "redirects",
    "utm_in_final",
    "ssl",
    "downgrade",
    "loop",
    "max_hops",
    "fragment",
    "timing",
)


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of the chain and what it answered."""

    url: str
    status: int | None
    location: str | None
    redirect: RedirectKind | None
    elapsed_ms: float
    utm: tuple[tuple[str, str], ...] = ()
    utm_lost: tuple[str, ...] = ()
    utm_changed: tuple[tuple[str, str, str], ...] = ()
    scheme_change: str | None = None
    tls: TlsInfo | None = None
    bytes_read: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "location": self.location,
            "redirect": self.redirect,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "utm": dict(self.utm),
            "utm_lost": list(self.utm_lost),
            "utm_changed": [{"name": n, "from": a, "to": b} for n, a, b in self.utm_changed],
            "scheme_change": self.scheme_change,
            "tls": None if self.tls is None else self.tls.to_json(),
            "bytes_read": self.bytes_read,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Check:
    """One rule's verdict on the whole chain."""

    check: str
    status: CheckStatus
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A link's redirect chain and the verdict of every check; `valid` means nothing failed."""

    url: str
    final_url: str
    valid: bool
    hops: tuple[Hop, ...]
    checks: tuple[Check, ...]

    def check(self, name: str) -> Check:
        """The check called `name` (KeyError when there is none)."""
        for item in self.checks:
            if item.check == name:
                return item
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "final_url": self.final_url,
            "valid": self.valid,
            "hops": [hop.to_json() for hop in self.hops],
            "checks": [item.to_json() for item in self.checks],
        }
