"""The destination URL, taken apart once: its own UTMs, click ids, and the pieces to keep.

Memoised by URL: a bulk sheet sends many campaigns to the same few landing pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus

from tagtrail.links.issues import Issue, issue
from tagtrail.links.policy import FIELDS
from tagtrail.links.urls import SplitUrl, split_url

#: `utm_<field>` for every field, in the order the builder writes them.
UTM_NAMES: dict[str, str] = {f"utm_{f}": f for f in FIELDS}
#: Ad-platform click ids a built link must not carry (matched case-insensitively).
CLICK_IDS = frozenset(
    "gclid gbraid wbraid dclid gclsrc fbclid msclkid ttclid twclid li_fat_id sccid epik rdt_cid "
    "yclid srsltid".split()
)


@dataclass(frozen=True, slots=True)
class Destination:
    """A valid destination: `base` is scheme://host[:port]/path; `kept` the query pieces kept."""

    base: str
    scheme: str
    host: str
    kept: tuple[str, ...]
    fragment: str | None
    existing: tuple[tuple[str, str], ...]
    issues: tuple[Issue, ...]


@lru_cache(maxsize=32768)
def parse_destination(url: str) -> Destination | Issue:
    """Split and normalise `url` and take its UTM pairs out, or return the error that stops it."""
    split = split_url(url)
    if isinstance(split, Issue):
        return split
    existing: dict[str, str] = {}
    found = list(split.issues)
    kept = _take_utms(split, existing, found)
    return Destination(
        split.origin(),
        split.scheme,
        split.host,
        tuple(kept),
        split.fragment,
        tuple(existing.items()),
        tuple(found),
    )


def _take_utms(split: SplitUrl, existing: dict[str, str], found: list[Issue]) -> list[str]:
    """Remove UTM pairs, wrong-case UTM names and click ids; return the query pieces kept."""
    kept: list[str] = []
    seen: set[str] = set()
    for piece in split.query:
        if not _take(piece, existing, seen, found):
            kept.append(piece)
    fragment = split.fragment
    if fragment and "utm_" in fragment.lower():
        rest = [p for p in fragment.split("&") if not _take(p, existing, seen, found)]
        if len(rest) != fragment.count("&") + 1:
            found.append(
                issue(
                    "W_UTM_IN_FRAGMENT",
                    "url",
                    "UTM parameters after `#` never reach GA4; they were moved to the query",
                    "put utm_* parameters in the query string (before any #)",
                )
            )
            split.fragment = "&".join(rest) or None
    return kept


def _take(piece: str, existing: dict[str, str], seen: set[str], found: list[Issue]) -> bool:
    """Record `piece` if it is a UTM pair or click id (True: drop it from the URL)."""
    name, _, raw = piece.partition("=")
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    if name in UTM_NAMES:
        if name in seen:
            found.append(
                issue(
                    "W_DUPLICATE_UTM",
                    UTM_NAMES[name],
                    f"`{name}` occurs more than once; the last value counts (as in GA4)",
                    f"keep a single {name}",
                )
            )
        seen.add(name)
        existing[UTM_NAMES[name]] = unquote_plus(raw)
        return True
    lower = name.lower()
    if lower in UTM_NAMES:
        found.append(
            issue(
                "W_UTM_NAME_CASE",
                UTM_NAMES[lower],
                f"`{name}` is not lower-case, so GA4 ignores it; it was removed",
                f"write it as `{lower}`",
            )
        )
        return True
    if lower in CLICK_IDS:
        found.append(
            issue(
                "W_CLICK_ID_REMOVED",
                "url",
                f"the URL carries the ad click id `{name}`; it was removed so that a stale id "
                "does not override this link's UTMs",
                "build links from the clean landing-page URL",
            )
        )
        return True
    return False
