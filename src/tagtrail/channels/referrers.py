"""Referrer hosts: parse them, and recognise search engines, social networks and AI assistants.

Browsers usually send only the referrer's origin (`strict-origin-when-cross-origin`), so every
decision here is made on the host. A leading `www.` is optional everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

from tagtrail.channels.sources import AI_ASSISTANT_HOSTS, SEARCH_ENGINE_PATTERNS, SOCIAL_HOSTS

__all__ = [
    "ai_assistant_for",
    "host_of",
    "referrer_host",
    "search_engine_for",
    "social_network_for",
    "strip_www",
]

_HOST: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
_BARE_HOST: Final = re.compile(r"(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*(?::\d+)?(?:/.*)?", re.DOTALL)
_LAST_LABEL: Final = re.compile(r"[a-z]{2,6}|xn--[a-z0-9-]+")
_SECOND_LEVEL: Final = re.compile(r"[a-z]{2,3}")

_EXACT: Final = {p: s for p, s in SEARCH_ENGINE_PATTERNS.items() if "*" not in p}
_ANY_TLD: Final = {p[:-2]: s for p, s in SEARCH_ENGINE_PATTERNS.items() if p.endswith(".*")}
_ANY_SUB: Final = {p[2:]: s for p, s in SEARCH_ENGINE_PATTERNS.items() if p.startswith("*.")}


def strip_www(host: str) -> str:
    """`www.example.com` -> `example.com` (a bare `www.com` is left alone)."""
    return host[4:] if host.startswith("www.") and host.count(".") > 1 else host


def host_of(url: str) -> str | None:
    """The lower-cased host of an absolute URL, without port, userinfo or trailing dot.

    `android-app://com.example.app/…` gives the package name. A bare `host/path` (no scheme) is
    accepted. Anything that is not a plausible host gives None (never raises).
    """
    text = url.strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
        if not parts.netloc and not parts.scheme and _BARE_HOST.fullmatch(text.lower()):
            parts = urlsplit("//" + text)
        host = parts.hostname
    except ValueError:
        return None
    if not host or not parts.netloc:
        return None
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST.fullmatch(host) else None


def referrer_host(referrer: str | None) -> str | None:
    """The host of a referrer (None when absent or malformed: a bad referrer counts as none)."""
    if referrer is None:
        return None
    return host_of(referrer)


def _any_tld(labels: list[str]) -> str | None:
    if len(labels) >= 2 and _LAST_LABEL.fullmatch(labels[-1]):
        found = _ANY_TLD.get(".".join(labels[:-1]))
        if found is not None:
            return found
        if len(labels) >= 3 and _SECOND_LEVEL.fullmatch(labels[-2]):
            return _ANY_TLD.get(".".join(labels[:-2]))
    return None


@lru_cache(maxsize=4096)
def search_engine_for(host: str) -> str | None:
    """The search engine's source name (`google`, `bing`, …) for a referrer host, or None.

    AI assistants and social networks are never search engines here, nor are Google's other
    services (mail., news., maps., gemini., …).
    """
    host = strip_www(host.lower().rstrip("."))
    found = _EXACT.get(host)
    if found is not None:
        return found
    labels = host.split(".")
    found = _any_tld(labels)
    if found is not None:
        return found
    for i in range(1, len(labels) - 1):
        found = _ANY_SUB.get(".".join(labels[i:]))
        if found is not None:
            return found
    return None


def _by_domain(host: str, table: Mapping[str, str]) -> str | None:
    host = strip_www(host.lower().rstrip("."))
    labels = host.split(".")
    for i in range(len(labels) - 1):
        found = table.get(".".join(labels[i:]))
        if found is not None:
            return found
    return None


def ai_assistant_for(host: str) -> str | None:
    """The AI assistant's name (`ChatGPT`, `Perplexity`, …) for a host or its subdomain, or None."""
    return _by_domain(host, AI_ASSISTANT_HOSTS)


def social_network_for(host: str) -> str | None:
    """The social network's name on Matomo's list for a host or its subdomain, or None.

    GA4 does not use this list (only its own source categories); tagtrail uses it to explain
    why, say, `x.com / referral` is Referral although X is a social network.
    """
    return _by_domain(host, SOCIAL_HOSTS)
