"""`build_link`: a destination URL and UTM values in; a tracked URL and its issues out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tagtrail.links.destination import Destination, parse_destination
from tagtrail.links.fields import resolve_values
from tagtrail.links.issues import Issue, issue
from tagtrail.links.policy import DEFAULT_POLICY, NamingPolicy
from tagtrail.links.predict import predict_channel
from tagtrail.links.urls import APP_STORE_HOSTS
from tagtrail.links.values import encode_value
from tagtrail.types import Status

MAX_URL_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What `build_link` returns. `utm` holds the final (decoded) value of every UTM field set."""

    status: Status
    tracked_url: str | None
    channel: str | None
    issues: tuple[Issue, ...]
    utm: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "tracked_url": self.tracked_url,
            "channel": self.channel,
            "issues": [i.to_json() for i in self.issues],
        }


def build_link(
    url: str,
    *,
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    id: str | None = None,  # noqa: A002 - the contract's name for utm_id
    term: str | None = None,
    content: str | None = None,
    source_platform: str | None = None,
    creative_format: str | None = None,
    marketing_tactic: str | None = None,
    policy: NamingPolicy | None = None,
) -> BuildResult:
    """Build the tracked URL for `url` with the given UTM values.

    Values given here override the URL's own `utm_*` parameters; the URL's other query pieces
    are kept byte-for-byte. Nothing is raised for bad input: problems come back as issues, and
    `tracked_url` is None when any of them is an error.
    """
    supplied = {
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "id": id,
        "term": term,
        "content": content,
        "source_platform": source_platform,
        "creative_format": creative_format,
        "marketing_tactic": marketing_tactic,
    }
    return build_from(url, {k: v for k, v in supplied.items() if v is not None}, policy=policy)


def build_from(
    url: str, supplied: Mapping[str, str], *, policy: NamingPolicy | None = None
) -> BuildResult:
    """`build_link` with the values as a mapping of field names (as bulk rows carry them)."""
    policy = policy or DEFAULT_POLICY
    destination = parse_destination(url)
    found: list[Issue]
    if isinstance(destination, Issue):
        found, existing = [destination], {}
    else:
        found, existing = list(destination.issues), dict(destination.existing)
    values, value_issues = resolve_values(existing, supplied, policy)
    found += value_issues
    channel, channel_issues = predict_channel(
        values.get("source"), values.get("medium"), values.get("campaign")
    )
    found += channel_issues
    tracked = None
    errors = any(i.level == "error" for i in found)
    if isinstance(destination, Destination) and not errors:
        tracked = _assemble(destination, values)
        if destination.scheme == "http":
            found.append(_insecure(tracked))
        if destination.host in APP_STORE_HOSTS:
            found.append(_app_store(destination.host))
        if len(tracked) > MAX_URL_LENGTH:
            found.append(
                issue(
                    "W_URL_TOO_LONG",
                    "url",
                    f"the tracked URL has {len(tracked):,} characters; GA4 cuts page_location at "
                    f"{MAX_URL_LENGTH:,}, which can cut off the UTMs",
                    "shorten the destination's own query string or the UTM values",
                )
            )
    issues, status = _ranked(found)
    return BuildResult(status, tracked, channel, issues, MappingProxyType(values))


def _ranked(found: list[Issue]) -> tuple[tuple[Issue, ...], Status]:
    """The issues, errors first, then warnings, then information, and the status they make."""
    levels = {i.level for i in found}
    if "error" not in levels and "warning" not in levels:
        return tuple(found), "ok"
    errors = [i for i in found if i.level == "error"]
    warnings = [i for i in found if i.level == "warning"]
    infos = [i for i in found if i.level == "info"]
    status: Status = "error" if errors else "warning" if warnings else "ok"
    return (*errors, *warnings, *infos), status


def _assemble(destination: Destination, values: Mapping[str, str]) -> str:
    """The tracked URL: the kept query pieces, then the UTMs (`values` is in FIELDS order, as
    `resolve_values` makes it; each value's encoding is memoised)."""
    pieces = [*destination.kept]
    pieces += [f"utm_{name}={encode_value(value)}" for name, value in values.items()]
    url = destination.base
    if pieces:
        url += "?" + "&".join(pieces)
    if destination.fragment is not None:
        url += "#" + destination.fragment
    return url


def _insecure(tracked: str) -> Issue:
    secure = "https" + tracked[4:]
    return issue(
        "W_INSECURE_HTTP",
        "url",
        "the destination uses http: the visit arrives without a referrer from https pages and "
        "can be intercepted",
        f"use https: {secure}",
    )


def _app_store(host: str) -> Issue:
    return issue(
        "W_APP_STORE_URL",
        "url",
        f"{host} drops utm_* parameters: installs will not be attributed to this campaign",
        "use the store's own campaign parameters (Google Play referrer, App Store ct/pt) "
        "or link to a web page that forwards to the store",
    )
