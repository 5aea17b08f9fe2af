"""`lint_link`: the builder's findings for an existing tracked URL, without rewriting it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tagtrail.links.build import build_link
from tagtrail.links.issues import Issue
from tagtrail.links.policy import NamingPolicy
from tagtrail.types import Status


@dataclass(frozen=True, slots=True)
class LintResult:
    """An existing URL, what is wrong with it, and the URL the builder would make of it."""

    url: str
    status: Status
    suggested_url: str | None
    channel: str | None
    issues: tuple[Issue, ...]

    @property
    def changed(self) -> bool:
        return self.suggested_url is not None and self.suggested_url != self.url

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "suggested_url": self.suggested_url,
            "channel": self.channel,
            "issues": [i.to_json() for i in self.issues],
        }


def lint_link(url: str, *, policy: NamingPolicy | None = None) -> LintResult:
    """Report what the builder would say of `url` (its own UTMs taken as given)."""
    built = build_link(url, policy=policy)
    return LintResult(url, built.status, built.tracked_url, built.channel, built.issues)
