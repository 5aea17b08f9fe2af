"""UTM parameters of a URL, and how they differ from the first URL of a chain (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

#: The UTM names GA4 reads, lower-case only, in the order tagtrail writes them.
UTM_NAMES: tuple[str, ...] = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_id",
    "utm_term",
    "utm_content",
    "utm_source_platform",
    "utm_creative_format",
    "utm_marketing_tactic",
)
_UTM_SET = frozenset(UTM_NAMES)


@dataclass(frozen=True, slots=True)
class UtmDiff:
    """The UTMs of one URL compared with the first URL of its chain."""

    present: tuple[tuple[str, str], ...]
    lost: tuple[str, ...]
    changed: tuple[tuple[str, str, str], ...]  # (name, first value, this value)


def utm_pairs(query: str) -> dict[str, str]:
    """UTM pairs of a query (or fragment) string; a repeated name keeps its last value."""
    return {k: v for k, v in parse_qsl(query, keep_blank_values=True) if k in _UTM_SET}


def _part(url: str, name: str) -> str:
    try:
        return str(getattr(urlsplit(url), name))
    except ValueError:  # e.g. an unclosed IPv6 bracket: the hop fails elsewhere, with a reason
        return ""


def scheme(url: str) -> str:
    """The lower-cased scheme of `url` ("" when it has none or cannot be parsed)."""
    return _part(url, "scheme").lower()


def url_utms(url: str) -> dict[str, str]:
    """The UTM pairs of a URL's query string, in tagtrail's order."""
    pairs = utm_pairs(_part(url, "query"))
    return {name: pairs[name] for name in UTM_NAMES if name in pairs}


def fragment_utms(url: str) -> dict[str, str]:
    """UTM pairs hidden in the fragment (`#utm_source=…`), which GA4 ignores."""
    return utm_pairs(_part(url, "fragment"))


def compare(first: dict[str, str], current: dict[str, str]) -> UtmDiff:
    """What happened to the first URL's UTMs by the time they reach `current`."""
    lost = tuple(name for name in first if name not in current)
    changed = tuple(
        (name, first[name], current[name])
        for name in first
        if name in current and current[name] != first[name]
    )
    return UtmDiff(present=tuple(current.items()), lost=lost, changed=changed)
