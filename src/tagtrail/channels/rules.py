"""GA4's default channel group: the rules for manually tagged and referral traffic, in order.

The rules are Google's ("[GA4] Default channel group", support answer 9756891) as of the
late-2023 revision; docs/channels.md lists them. Matching is case-insensitive: source, medium
and campaign are stripped and lower-cased, a missing or empty value is `(not set)`, the source
categories are looked up on the whole value, and the documented regexes are full matches. The
regexes are evaluated as the equivalent string tests (tests check the equivalence):

    PAID   ^(.*cp.*|ppc|retargeting|paid.*)$      "cp" in m or m in {ppc, retargeting}
                                                   or m starts with "paid"
    SHOPC  ^(.*(([^a-df-z]|^)shop|shopping).*)$  a search for (^|[^a-df-z])shop|shopping
    VIDEO  ^(.*video.*)$                          "video" in m
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from tagtrail.channels.sources import SOURCE_CATEGORIES
from tagtrail.errors import InvalidInput

NOT_SET: Final = "(not set)"
AI_ASSISTANT: Final = "AI Assistant"
UNASSIGNED: Final = "Unassigned"

#: The channels of the default ruleset, in GA4's evaluation order (Unassigned last).
CHANNELS: Final = (
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Referral",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    UNASSIGNED,
)
#: The rulesets `channel_for` knows; the first is the default.
RULESETS: Final = ("ga4", "ga4-2026")
DEFAULT_RULESET: Final = "ga4"
#: Which revision of Google's rules the default ruleset encodes.
RULESET_VERSION: Final = "ga4-2023-11"
#: Each ruleset's revision of Google's rules.
RULESET_VERSIONS: Final = {"ga4": RULESET_VERSION, "ga4-2026": "ga4-2026-05"}
#: Each ruleset's channels in evaluation order: ga4-2026 adds AI Assistant after Cross-network.
RULESET_CHANNELS: Final = {
    "ga4": CHANNELS,
    "ga4-2026": (*CHANNELS[:2], AI_ASSISTANT, *CHANNELS[2:]),
}

_DISPLAY_MEDIA: Final = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA: Final = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
)
_REFERRAL_MEDIA: Final = frozenset({"referral", "app", "link"})
_EMAIL: Final = frozenset({"email", "e-mail", "e_mail", "e mail"})
_DIRECT_MEDIA: Final = frozenset({NOT_SET, "(none)"})
_SHOP_CAMPAIGN: Final = re.compile(r"(?:^|[^a-df-z])shop|shopping", re.DOTALL)


def _norm(value: str | None) -> str:
    if not value:
        return NOT_SET
    value = value.strip().lower()
    return value or NOT_SET


def is_paid_medium(medium: str) -> bool:
    """GA4's paid-medium regex `^(.*cp.*|ppc|retargeting|paid.*)$` on a lower-cased medium."""
    return "cp" in medium or medium == "ppc" or medium == "retargeting" or medium.startswith("paid")


def is_shopping_campaign(campaign: str) -> bool:
    """GA4's shopping-campaign regex `^(.*(([^a-df-z]|^)shop|shopping).*)$` (lower-cased)."""
    return _SHOP_CAMPAIGN.search(campaign) is not None


def _evaluate(s: str, m: str, c: str, ai: bool) -> tuple[str, str]:
    """The first matching rule on normalised values: (channel, clause that fired)."""
    if s == "(direct)" and m in _DIRECT_MEDIA:
        return "Direct", "direct"
    if "cross-network" in c:
        return "Cross-network", "campaign-cross-network"
    if ai and m == "ai-assistant":
        return AI_ASSISTANT, "medium-ai-assistant"
    cat = SOURCE_CATEGORIES.get(s)
    shopc = _SHOP_CAMPAIGN.search(c) is not None
    if "cp" in m or m == "ppc" or m == "retargeting" or m.startswith("paid"):
        if cat == "shopping":
            return "Paid Shopping", "source-shopping+paid"
        if shopc:
            return "Paid Shopping", "campaign-shopping+paid"
        if cat == "search":
            return "Paid Search", "source-search+paid"
        if cat == "social":
            return "Paid Social", "source-social+paid"
        if cat == "video":
            return "Paid Video", "source-video+paid"
        if m in _DISPLAY_MEDIA:
            return "Display", "medium-display"
        return "Paid Other", "medium-paid"
    if m in _DISPLAY_MEDIA:
        return "Display", "medium-display"
    if cat == "shopping":
        return "Organic Shopping", "source-shopping"
    if shopc:
        return "Organic Shopping", "campaign-shopping"
    if cat == "social":
        return "Organic Social", "source-social"
    if m in _SOCIAL_MEDIA:
        return "Organic Social", "medium-social"
    if cat == "video":
        return "Organic Video", "source-video"
    if "video" in m:
        return "Organic Video", "medium-video"
    if cat == "search":
        return "Organic Search", "source-search"
    if m == "organic":
        return "Organic Search", "medium-organic"
    if m in _REFERRAL_MEDIA:
        return "Referral", "medium-referral"
    if s in _EMAIL:
        return "Email", "source-email"
    if m in _EMAIL:
        return "Email", "medium-email"
    if m == "affiliate":
        return "Affiliates", "medium-affiliate"
    if m == "audio":
        return "Audio", "medium-audio"
    if s == "sms":
        return "SMS", "source-sms"
    if m == "sms":
        return "SMS", "medium-sms"
    if m.endswith("push"):
        return "Mobile Push Notifications", "medium-push"
    if "mobile" in m or "notification" in m:
        return "Mobile Push Notifications", "medium-mobile-notification"
    if s == "firebase":
        return "Mobile Push Notifications", "source-firebase"
    return UNASSIGNED, "unassigned"


def check_ruleset(ruleset: str) -> None:
    """Raise InvalidInput unless `ruleset` is one of RULESETS."""
    if ruleset not in RULESET_VERSIONS:
        valid = ", ".join(RULESETS)
        raise InvalidInput(
            f"unknown channel ruleset {ruleset!r}: valid rulesets are {valid}",
            hint=f"use one of: {valid}",
        )


@lru_cache(maxsize=65536)
def classify(
    source: str | None, medium: str | None, campaign: str | None, ruleset: str
) -> tuple[str, str]:
    """(channel, clause) for the raw triple, memoised; raises InvalidInput for a bad ruleset."""
    if ruleset != "ga4":
        check_ruleset(ruleset)
    return _evaluate(_norm(source), _norm(medium), _norm(campaign), ruleset == "ga4-2026")


def channel_for(
    source: str | None,
    medium: str | None,
    campaign: str | None = None,
    *,
    ruleset: str = DEFAULT_RULESET,
) -> str:
    """GA4's default channel group for a source / medium / campaign.

    >>> channel_for("facebook", "email")
    'Organic Social'
    """
    return classify(source, medium, campaign, ruleset)[0]


def channel_for_uncached(
    source: str | None,
    medium: str | None,
    campaign: str | None = None,
    *,
    ruleset: str = DEFAULT_RULESET,
) -> str:
    """`channel_for` without the memo (for one-off values and benchmarks)."""
    return classify.__wrapped__(source, medium, campaign, ruleset)[0]
