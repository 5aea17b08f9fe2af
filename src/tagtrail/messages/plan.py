"""Which links of a message are rewritten and which are skipped, and why (DESIGN §9).

`plan_message(body, channel, short_host=…, excluded=…)` reads an email's HTML or an SMS text and
returns every link found, numbered in document order from 1 (`position`), each either tracked
(`reason` None) or skipped with one reason: `opt_out`, `placeholder`, `anchor`, `scheme`,
`excluded`, `already_tracked` (checked in that order). `Template` cuts the body at the tracked
href values, so each recipient's body is the pieces joined with that recipient's URLs and every
other character is the input's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from tagtrail.messages.html import find_html_links
from tagtrail.messages.sms import find_sms_links

Channel = Literal["email", "sms"]
Reason = Literal["scheme", "anchor", "placeholder", "excluded", "opt_out", "already_tracked"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\*\|.*?\|\*|%%.*?%%", re.DOTALL)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class FoundLink:
    position: int
    url: str  # the destination: entities decoded, `https://` added to a bare SMS domain
    text: str | None  # the anchor's text (email), None for an SMS
    start: int
    end: int
    reason: Reason | None  # None: tracked

    @property
    def content(self) -> str:
        """The default `utm_content`: the slug of the anchor text, else `link-N`."""
        return slug(self.text or "") or f"link-{self.position}"


@dataclass(frozen=True, slots=True)
class MessagePlan:
    channel: Channel
    links: tuple[FoundLink, ...]

    @property
    def tracked(self) -> tuple[FoundLink, ...]:
        return tuple(link for link in self.links if link.reason is None)

    @property
    def skipped(self) -> tuple[FoundLink, ...]:
        return tuple(link for link in self.links if link.reason is not None)


def plan_message(
    body: str, channel: Channel, *, short_host: str, excluded: Sequence[str] = ()
) -> MessagePlan:
    own = short_host.lower()
    found: list[FoundLink] = []
    if channel == "email":
        for n, link in enumerate(find_html_links(body), start=1):
            reason = "opt_out" if link.opt_out else _reason(link.url, own, excluded)
            found.append(FoundLink(n, link.url.strip(), link.text, link.start, link.end, reason))
    else:
        for n, sms in enumerate(find_sms_links(body), start=1):
            found.append(
                FoundLink(n, sms.url, None, sms.start, sms.end, _reason(sms.url, own, excluded))
            )
    return MessagePlan(channel, tuple(found))


def _reason(url: str, own_host: str, excluded: Sequence[str]) -> Reason | None:
    value = url.strip()
    if _PLACEHOLDER.search(value):
        return "placeholder"
    if value.startswith("#"):
        return "anchor"
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return "scheme"
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "scheme"
    if excluded_host(host, excluded):
        return "excluded"
    if host == own_host:
        return "already_tracked"
    return None


def excluded_host(host: str, domains: Sequence[str]) -> str | None:
    """The excluded domain that `host` is (or is under), or None."""
    return next((d for d in domains if host == d or host.endswith("." + d)), None)


def slug(text: str) -> str:
    """`Shop the sale →` → `shop-the-sale` (ASCII, at most 60 characters)."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_SLUG.sub("-", ascii_).strip("-")[:60].strip("-")


@dataclass(frozen=True, slots=True)
class Template:
    """The body cut at the tracked positions: `pieces[0] url_1 pieces[1] … url_N pieces[N]`."""

    pieces: tuple[str, ...]
    positions: tuple[int, ...]

    @classmethod
    def of(cls, body: str, tracked: Iterable[FoundLink]) -> Template:
        """Cut `body` at the spans of the `tracked` links (in document order)."""
        pieces, positions, at = [], [], 0
        for link in tracked:
            pieces.append(body[at : link.start])
            positions.append(link.position)
            at = link.end
        pieces.append(body[at:])
        return cls(tuple(pieces), tuple(positions))

    def render(self, urls: Sequence[str]) -> str:
        """The body with the tracked positions' values replaced by `urls` (one per position)."""
        if len(urls) != len(self.positions):
            raise ValueError(f"{len(self.positions)} URLs needed, {len(urls)} given")
        out = [self.pieces[0]]
        for url, piece in zip(urls, self.pieces[1:], strict=True):
            out.append(url)
            out.append(piece)
        return "".join(out)
