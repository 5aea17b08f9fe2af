"""Is this click a person or a machine? DESIGN §6 and rules B1–B3 (pure, on every redirect).

A click is a bot when any **hard** signal is seen, or at least two **soft** ones. Bots are
flagged, never dropped, and always redirected; every click keeps its verdict and all its reasons
(soft signals too, even when they did not make a bot on their own).

Hard signals (reason codes):

- `head`: the request method is HEAD ("real users will always use GET", Dub).
- `prefetch`: a `Purpose`, `Sec-Purpose` or `X-Purpose` header containing `prefetch` or
  `prerender`, or `X-Moz: prefetch` (a browser or proxy fetching ahead of a person).
- `crawler_ua`: crawlerdetect (JayBizzle/Crawler-Detect's list) recognises the user agent.
- `empty_ua`: no user agent, or only whitespace.
- `honeypot`: the link is a hidden honeypot link (Spotler, rule B5).
- `deny_ua`, `deny_ip`: the operator's deny lists (`BotRules.deny_user_agents`,
  `BotRules.deny_networks`) match.

Soft signals (two make a bot):

- `fast_after_send`: the click came less than `fast_click_seconds` after the message was sent
  (Mautic, warmbly, ValueBuilder; a click timed before the send also counts).
- `scanner_ip`: the source IP is in a shipped mail-security scanner range (Microsoft EOP,
  Proofpoint, Mimecast, Barracuda; `data/scanner_networks.json`).
- `burst`: with this one, `burst_links` or more distinct links of the same message were clicked
  within 2 s by this recipient or IP + user agent (CustomerMinds, Laposta).
- `scanner_referrer`: the referrer is a link-protection wrapper (`*.mimecastprotect.com`,
  `protect-*.mimecast.com`, `urldefense.proofpoint.com`, `urldefense.com`,
  `*.safelinks.protection.outlook.com`, `linkprotect.cudasvc.com`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from crawlerdetect.crawlerdetect import (  # type: ignore[import-untyped]
    get_compiled_exclusions_regex,
)
from crawlerdetect.providers.crawlers import data as crawler_patterns  # type: ignore[import-untyped]

from tagtrail.channels.referrers import host_of
from tagtrail.clicks.networks import deny_table, scanner_table
from tagtrail.clicks.privacy import parse_ip

__all__ = [
    "DEFAULT_RULES",
    "HARD_REASONS",
    "REASONS",
    "SCANNER_REFERRER_HOSTS",
    "SOFT_REASONS",
    "BotRules",
    "BotVerdict",
    "ClickFacts",
    "classify_click",
]

REASONS: Final[Mapping[str, str]] = {
    "head": "HEAD request",
    "prefetch": "prefetch or prerender request header",
    "crawler_ua": "crawler or automation user agent (crawlerdetect)",
    "empty_ua": "empty user agent",
    "honeypot": "hidden honeypot link",
    "deny_ua": "user agent on the operator's deny list",
    "deny_ip": "source IP on the operator's deny list",
    "fast_after_send": "clicked within fast_click_seconds of the send",
    "scanner_ip": "source IP in a mail-security scanner range",
    "burst": "several links of one message within 2 seconds",
    "scanner_referrer": "referrer is a link-protection wrapper",
}
HARD_REASONS: Final = (
    "head",
    "prefetch",
    "crawler_ua",
    "empty_ua",
    "honeypot",
    "deny_ua",
    "deny_ip",
)
SOFT_REASONS: Final = ("fast_after_send", "scanner_ip", "burst", "scanner_referrer")
SCANNER_REFERRER_HOSTS: Final = (
    "mimecastprotect.com",
    "urldefense.proofpoint.com",
    "urldefense.com",
    "safelinks.protection.outlook.com",
    "linkprotect.cudasvc.com",
)

_PURPOSE_HEADERS: Final = ("purpose", "sec-purpose", "x-purpose")
_PREFETCH: Final = re.compile(r"prefetch|prerender", re.IGNORECASE)
_MIMECAST_PROTECT: Final = re.compile(r"protect-[a-z0-9-]+\.mimecast\.com")
_MAX_UA: Final = 512
_MAX_REFERER: Final = 2048
_LEADING_CLASS_STAR: Final = re.compile(r"^\[[^\]]*\]\*")


def _crawler_regex() -> re.Pattern[str]:
    """crawlerdetect's crawler list as one regex, minus one quadratic prefix.

    One entry starts `[a-z0-9\\-_]*(bot|crawl|…)`: searched over a long run of letters, that
    prefix makes the search quadratic (crawlerdetect takes ~350 ms on a 2 KB user agent). A
    leading `[…]*` never changes *whether* a search matches (it may match nothing), so it is
    dropped. The verdict is crawlerdetect's; tests compare the two.
    """
    patterns = (_LEADING_CLASS_STAR.sub("", str(p)) for p in crawler_patterns)
    return re.compile("(?:" + "|".join(patterns) + ")", re.IGNORECASE)


_CRAWLER: Final = _crawler_regex()
_EXCLUSIONS: Final[re.Pattern[str]] = get_compiled_exclusions_regex()


@dataclass(frozen=True, slots=True)
class ClickFacts:
    """What the redirect knows about one click (the raw IP is used here, never stored).

    `headers` holds lower-case names, only those that matter: `purpose`, `sec-purpose`,
    `x-purpose`, `x-moz`, `referer`. `seconds_since_send` is None when no send is known;
    `recent_message_links` counts the *distinct other* links of the same message clicked by
    this recipient (or IP + user agent) in the last 2 s.
    """

    method: str
    user_agent: str
    headers: Mapping[str, str]
    ip: str | None
    honeypot: bool = False
    seconds_since_send: float | None = None
    recent_message_links: int = 0


@dataclass(frozen=True, slots=True)
class BotVerdict:
    """`is_bot` and every signal seen, as reason codes (hard ones first, in `REASONS` order)."""

    is_bot: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BotRules:
    """Operator settings. `deny_user_agents` are regexes searched case-insensitively;
    `deny_networks` are CIDRs. Both deny lists are hard signals. Invalid values raise
    ValueError when the rules are made, not on a click."""

    fast_click_seconds: float = 10.0
    burst_links: int = 3
    deny_user_agents: tuple[str, ...] = ()
    deny_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.fast_click_seconds >= 0:
            raise ValueError("fast_click_seconds must be a number >= 0")
        if self.burst_links < 2:
            raise ValueError("burst_links must be at least 2")
        object.__setattr__(self, "deny_user_agents", tuple(self.deny_user_agents))
        object.__setattr__(self, "deny_networks", tuple(self.deny_networks))
        _deny_ua_pattern(self.deny_user_agents)
        deny_table(self.deny_networks)


@lru_cache(maxsize=64)
def _deny_ua_pattern(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"bad deny_user_agents pattern: {exc}") from exc


@lru_cache(maxsize=8192)
def _is_crawler(user_agent: str) -> bool:
    """crawlerdetect's verdict (its `is_crawler`: drop the exclusions, then search the crawler
    list), memoised per user-agent string: the hot path sees few distinct agents."""
    agent = _EXCLUSIONS.sub("", user_agent)
    return bool(agent) and _CRAWLER.search(agent) is not None


DEFAULT_RULES: Final = BotRules()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    return value if isinstance(value, str) else ""


def _is_prefetch(headers: Mapping[str, str]) -> bool:
    for name in _PURPOSE_HEADERS:
        if _PREFETCH.search(_header(headers, name)):
            return True
    return _header(headers, "x-moz").strip().lower() == "prefetch"


def _is_scanner_referrer(referer: str) -> bool:
    if not referer:
        return False
    host = host_of(referer[:_MAX_REFERER])
    if host is None:
        return False
    if _MIMECAST_PROTECT.fullmatch(host):
        return True
    return any(host == h or host.endswith("." + h) for h in SCANNER_REFERRER_HOSTS)


def classify_click(facts: ClickFacts, rules: BotRules = DEFAULT_RULES) -> BotVerdict:
    """The verdict for one click: any hard signal, or two soft ones, make a bot. Never raises
    on odd input (any text in any field)."""
    reasons: list[str] = []
    method = facts.method if isinstance(facts.method, str) else ""
    if method.strip().upper() == "HEAD":
        reasons.append("head")
    headers = facts.headers if isinstance(facts.headers, Mapping) else {}
    if headers and _is_prefetch(headers):
        reasons.append("prefetch")
    user_agent = facts.user_agent.strip()[:_MAX_UA] if isinstance(facts.user_agent, str) else ""
    if not user_agent:
        reasons.append("empty_ua")
    elif _is_crawler(user_agent):
        reasons.append("crawler_ua")
    if facts.honeypot:
        reasons.append("honeypot")
    deny_ua = _deny_ua_pattern(rules.deny_user_agents)
    if deny_ua is not None and user_agent and deny_ua.search(user_agent):
        reasons.append("deny_ua")
    address = parse_ip(facts.ip) if facts.ip is not None else None
    if address is not None and rules.deny_networks:
        if deny_table(rules.deny_networks).lookup(address) is not None:
            reasons.append("deny_ip")
    hard = len(reasons)

    seconds = facts.seconds_since_send
    if isinstance(seconds, int | float) and math.isfinite(seconds):
        if seconds < rules.fast_click_seconds:
            reasons.append("fast_after_send")
    if address is not None and scanner_table().lookup(address) is not None:
        reasons.append("scanner_ip")
    recent = facts.recent_message_links
    if isinstance(recent, int) and recent + 1 >= rules.burst_links:
        reasons.append("burst")
    if headers and _is_scanner_referrer(_header(headers, "referer")):
        reasons.append("scanner_referrer")
    return BotVerdict(is_bot=hard > 0 or len(reasons) - hard >= 2, reasons=tuple(reasons))
