"""Derive a visit's traffic source (source / medium / campaign / channel) from its landing URL.

The derivation, first match wins (docs/channels.md has the reasons):

1. `gclid`, `gbraid` or `wbraid` -> `google / cpc`, campaign `(not set)`, even with UTMs
   (GA4 prefers auto-tagging; the Ads campaign name needs the Ads link tagtrail does not have).
2. Any of `utm_source`, `utm_medium`, `utm_campaign` -> the UTMs, missing ones `(not set)`.
3. `srsltid` -> `google / organic`, campaign `Shopping Free Listings` (Organic Shopping).
4. `dclid` -> `dv360 / cpm`, campaign `(not set)` (Display).
5. With `infer_click_ids=True` only: msclkid, yclid, ttclid, li_fat_id, twclid, ScCid, epik,
   rdt_cid -> `<platform> / cpc` (Paid Search or Paid Social). fbclid never counts.
6. The referrer: a site host (or the landing host) -> Direct; an AI assistant under `ga4-2026`
   -> `<host> / ai-assistant`; a search engine -> `<engine> / organic`; else
   `<host without www.> / referral`.
7. `(direct) / (none)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from tagtrail.channels.referrers import (
    ai_assistant_for,
    host_of,
    referrer_host,
    search_engine_for,
    strip_www,
)
from tagtrail.channels.rules import DEFAULT_RULESET, NOT_SET, channel_for, check_ruleset
from tagtrail.errors import InvalidInput

__all__ = ["GOOGLE_ADS_CLICK_IDS", "INFERRED_CLICK_IDS", "TrafficSource", "traffic_source"]

#: Google Ads auto-tagging parameters (read as GA4 reads them: lower-case names only).
GOOGLE_ADS_CLICK_IDS: Final = ("gclid", "gbraid", "wbraid")
#: Opt-in inference for other platforms' click ids (names matched case-insensitively).
INFERRED_CLICK_IDS: Final = {
    "msclkid": "bing",
    "yclid": "yandex",
    "ttclid": "tiktok",
    "li_fat_id": "linkedin",
    "twclid": "twitter",
    "sccid": "snapchat",
    "epik": "pinterest",
    "rdt_cid": "reddit",
}
_UTM: Final = ("utm_source", "utm_medium", "utm_campaign")


@dataclass(frozen=True, slots=True)
class TrafficSource:
    """Where a visit came from, with GA4's default channel for it."""

    source: str
    medium: str
    campaign: str
    content: str | None
    term: str | None
    click_id: str | None  # the name of the click-id parameter that decided, e.g. "gclid"
    channel: str


def _query(landing_url: str) -> tuple[dict[str, str], str | None]:
    """Query parameters (last occurrence wins, `+` is a space) and the landing host."""
    if not isinstance(landing_url, str) or not landing_url.strip():
        raise InvalidInput(
            "the landing URL is empty", hint="give the full URL, e.g. https://example.com/?utm_…"
        )
    text = landing_url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidInput(
            f"cannot parse the landing URL {text!r}: {exc}",
            hint="give an absolute URL such as https://example.com/landing?utm_source=…",
        ) from exc
    if not (parts.scheme and parts.netloc) and not text.startswith("/"):
        raise InvalidInput(
            f"the landing URL {text!r} is not an absolute URL",
            hint="include the scheme and host, e.g. https://example.com/landing",
        )
    params: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True, errors="replace"):
        params[name] = value.strip()
    return params, host_of(text) if parts.netloc else None


def _result(
    source: str,
    medium: str,
    campaign: str,
    ruleset: str,
    *,
    content: str | None = None,
    term: str | None = None,
    click_id: str | None = None,
) -> TrafficSource:
    channel = channel_for(source, medium, campaign, ruleset=ruleset)
    return TrafficSource(source, medium, campaign, content, term, click_id, channel)


def _inferred(params: dict[str, str]) -> tuple[str, str] | None:
    for name, value in params.items():
        platform = INFERRED_CLICK_IDS.get(name.lower())
        if platform is not None and value:
            return name, platform
    return None


def _site_hosts(site_hosts: Iterable[str], landing_host: str | None) -> set[str]:
    hosts = {strip_www(h.strip().lower().rstrip(".")) for h in site_hosts if h and h.strip()}
    if landing_host:
        hosts.add(strip_www(landing_host))
    return hosts


def _from_referrer(referrer: str | None, sites: set[str], ruleset: str) -> TrafficSource | None:
    host = referrer_host(referrer)
    if host is None:
        return None
    bare = strip_www(host)
    if any(bare == site or bare.endswith("." + site) for site in sites):
        return None  # a self-referral is no referral
    if ruleset == "ga4-2026" and ai_assistant_for(bare) is not None:
        return _result(bare, "ai-assistant", "(ai-assistant)", ruleset)
    engine = search_engine_for(bare)
    if engine is not None:
        return _result(engine, "organic", "(organic)", ruleset)
    return _result(bare, "referral", "(referral)", ruleset)


def traffic_source(
    landing_url: str,
    referrer: str | None = None,
    *,
    site_hosts: Iterable[str] = (),
    ruleset: str = DEFAULT_RULESET,
    infer_click_ids: bool = False,
) -> TrafficSource:
    """Source, medium, campaign, content, term, click id and GA4 channel of one visit.

    >>> traffic_source("https://shop.example/?utm_source=newsletter&utm_medium=email").channel
    'Email'
    """
    check_ruleset(ruleset)
    params, landing_host = _query(landing_url)
    content = params.get("utm_content") or None
    term = params.get("utm_term") or None
    for name in GOOGLE_ADS_CLICK_IDS:
        if params.get(name):
            return _result("google", "cpc", NOT_SET, ruleset, click_id=name)
    if any(params.get(name) for name in _UTM):
        source, medium, campaign = (params.get(name) or NOT_SET for name in _UTM)
        return _result(source, medium, campaign, ruleset, content=content, term=term)
    if params.get("srsltid"):
        return _result("google", "organic", "Shopping Free Listings", ruleset, click_id="srsltid")
    if params.get("dclid"):
        return _result("dv360", "cpm", NOT_SET, ruleset, click_id="dclid")
    if infer_click_ids:
        found = _inferred(params)
        if found is not None:
            return _result(found[1], "cpc", NOT_SET, ruleset, click_id=found[0])
    derived = _from_referrer(referrer, _site_hosts(site_hosts, landing_host), ruleset)
    if derived is not None:
        return derived
    return _result("(direct)", "(none)", "(direct)", ruleset)
