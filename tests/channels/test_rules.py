"""GA4's default channel rules, tested in GA4's evaluation order (docs/channels.md)."""

from __future__ import annotations

import re

import pytest

from tagtrail.channels import (
    AI_ASSISTANT,
    CHANNELS,
    DEFAULT_RULESET,
    RULESET_CHANNELS,
    RULESET_VERSION,
    RULESETS,
    channel_for,
    channel_for_uncached,
    explain_channel,
    is_paid_medium,
    is_shopping_campaign,
)
from tagtrail.errors import InvalidInput

# (source, medium, campaign, channel, rule) — grouped by the rule that fires, in GA4's order.
CASES = [
    # 1 Direct
    ("(direct)", "(none)", None, "Direct", "direct"),
    ("(direct)", "(not set)", None, "Direct", "direct"),
    ("(direct)", None, None, "Direct", "direct"),
    ("(DIRECT)", "(None)", None, "Direct", "direct"),
    ("(direct)", "email", None, "Email", "medium-email"),  # only (none)/(not set) are Direct
    # 2 Cross-network: the campaign overrides any source/medium
    ("google", "cpc", "pmax-cross-network-q3", "Cross-network", "campaign-cross-network"),
    ("newsletter", "email", "cross-network", "Cross-network", "campaign-cross-network"),
    ("amazon", "cpc", "cross-network-shop", "Cross-network", "campaign-cross-network"),
    ("(direct)", "(none)", "cross-network", "Direct", "direct"),  # Direct is checked first
    # 3 Paid Shopping: shopping source or shopping campaign, and a paid medium
    ("amazon", "cpc", None, "Paid Shopping", "source-shopping+paid"),
    ("Google Shopping", "cpc", None, "Paid Shopping", "source-shopping+paid"),
    ("igshopping", "paid", None, "Paid Shopping", "source-shopping+paid"),
    ("google", "cpc", "summer-shop", "Paid Shopping", "campaign-shopping+paid"),
    ("facebook", "paid-social", "shopping-q4", "Paid Shopping", "campaign-shopping+paid"),
    ("unknown", "cpm", "eshop", "Paid Shopping", "campaign-shopping+paid"),
    # 4 Paid Search
    ("google", "cpc", None, "Paid Search", "source-search+paid"),
    ("bing", "ppc", None, "Paid Search", "source-search+paid"),
    ("google", "cpm", None, "Paid Search", "source-search+paid"),  # Paid X beats Display
    ("google", "retargeting", None, "Paid Search", "source-search+paid"),
    ("google", "cpc", "workshop", "Paid Search", "source-search+paid"),
    # 5 Paid Social
    ("facebook", "cpc", None, "Paid Social", "source-social+paid"),
    ("facebook", "cpm", None, "Paid Social", "source-social+paid"),
    ("facebook", "paid_social", None, "Paid Social", "source-social+paid"),
    ("linkedin", "paidsocial", None, "Paid Social", "source-social+paid"),
    # 6 Paid Video
    ("youtube", "cpv", None, "Paid Video", "source-video+paid"),
    ("vimeo", "paid", None, "Paid Video", "source-video+paid"),
    # 7 Display
    ("publisher", "display", None, "Display", "medium-display"),
    ("publisher", "banner", "summer-shop", "Display", "medium-display"),  # not Organic Shopping
    ("publisher", "expandable", None, "Display", "medium-display"),
    ("publisher", "interstitial", None, "Display", "medium-display"),
    ("publisher", "cpm", None, "Display", "medium-display"),
    ("facebook", "display", None, "Display", "medium-display"),  # display is not a paid token
    # 8 Paid Other
    ("google.com", "cpc", None, "Paid Other", "medium-paid"),  # google.com is on no list
    ("bing.com", "cpc", None, "Paid Other", "medium-paid"),
    ("partner", "cpa", None, "Paid Other", "medium-paid"),  # cpa: not Affiliates
    ("x", "ecpm", None, "Paid Other", "medium-paid"),
    ("x", "paid-affiliate", None, "Paid Other", "medium-paid"),
    ("x", "retargeting", None, "Paid Other", "medium-paid"),
    # 9 Organic Shopping
    ("amazon", "referral", None, "Organic Shopping", "source-shopping"),
    ("etsy", "social", None, "Organic Shopping", "source-shopping"),  # before Organic Social
    ("newsletter", "email", "black-friday-shop", "Organic Shopping", "campaign-shopping"),
    ("newsletter", "email", "reshop", "Organic Shopping", "campaign-shopping"),
    ("newsletter", "email", "shop_now", "Organic Shopping", "campaign-shopping"),
    ("newsletter", "email", "shopping", "Organic Shopping", "campaign-shopping"),
    ("google", "organic", "Shopping Free Listings", "Organic Shopping", "campaign-shopping"),
    # 10 Organic Social
    ("facebook", "email", None, "Organic Social", "source-social"),
    ("whatsapp", "sms", None, "Organic Social", "source-social"),
    ("tiktok", "video", None, "Organic Social", "source-social"),  # TikTok is social
    ("m.facebook.com", "referral", None, "Organic Social", "source-social"),
    ("t.co", "referral", None, "Organic Social", "source-social"),
    ("facebook", "ppc-ads", None, "Organic Social", "source-social"),  # ppc-ads is not paid
    ("facebook", "social-paid", None, "Organic Social", "source-social"),
    ("facebook", "sponsored", None, "Organic Social", "source-social"),
    ("facebook", "remarketing", None, "Organic Social", "source-social"),
    ("partner", "social", None, "Organic Social", "medium-social"),
    ("partner", "social-network", None, "Organic Social", "medium-social"),
    ("partner", "social-media", None, "Organic Social", "medium-social"),
    ("partner", "sm", None, "Organic Social", "medium-social"),
    ("partner", "social network", None, "Organic Social", "medium-social"),
    ("partner", "Social Media", None, "Organic Social", "medium-social"),
    # 11 Organic Video
    ("youtube", "organic", None, "Organic Video", "source-video"),  # video before search
    ("youtube", "email", None, "Organic Video", "source-video"),
    ("partner", "video", None, "Organic Video", "medium-video"),
    ("partner", "explainer-video-embed", None, "Organic Video", "medium-video"),
    # 12 Organic Search
    ("google", "email", None, "Organic Search", "source-search"),
    ("google", "referral", None, "Organic Search", "source-search"),
    ("news.google.com", "referral", None, "Organic Search", "source-search"),
    ("yahoo.com", "referral", None, "Organic Search", "source-search"),
    ("partner", "organic", None, "Organic Search", "medium-organic"),
    ("duckduckgo", "organic", None, "Organic Search", "source-search"),
    # 13 Referral (before Email)
    ("x.com", "referral", None, "Referral", "medium-referral"),
    ("threads.net", "referral", None, "Referral", "medium-referral"),
    ("email", "referral", None, "Referral", "medium-referral"),
    ("partner", "app", None, "Referral", "medium-referral"),
    ("partner", "link", None, "Referral", "medium-referral"),
    # 14 Email
    ("newsletter", "email", None, "Email", "medium-email"),
    ("newsletter", "e-mail", None, "Email", "medium-email"),
    ("newsletter", "e_mail", None, "Email", "medium-email"),
    ("newsletter", "e mail", None, "Email", "medium-email"),
    ("intercom", "EMAIL", None, "Email", "medium-email"),
    ("email", "(not set)", None, "Email", "source-email"),
    ("e-mail", "newsletter", None, "Email", "source-email"),
    ("email", "affiliate", None, "Email", "source-email"),  # Email before Affiliates
    # 15 Affiliates
    ("partner", "affiliate", None, "Affiliates", "medium-affiliate"),
    # 16 Audio
    ("spotify-ads", "audio", None, "Audio", "medium-audio"),
    # 17 SMS
    ("instasent", "sms", None, "SMS", "medium-sms"),
    ("sms", "(not set)", None, "SMS", "source-sms"),
    ("sms", "blast", None, "SMS", "source-sms"),
    # 18 Mobile Push Notifications
    ("onesignal", "push", None, "Mobile Push Notifications", "medium-push"),
    ("onesignal", "web-push", None, "Mobile Push Notifications", "medium-push"),
    ("app", "mobile", None, "Mobile Push Notifications", "medium-mobile-notification"),
    ("site", "mobile-web", None, "Mobile Push Notifications", "medium-mobile-notification"),
    ("app", "in-app-notification", None, "Mobile Push Notifications", "medium-mobile-notification"),
    ("firebase", "(not set)", None, "Mobile Push Notifications", "source-firebase"),
    ("firebase", "inbox", None, "Mobile Push Notifications", "source-firebase"),
    # Unassigned: the exact tokens that do NOT match
    ("partner", "affiliates", None, "Unassigned", "unassigned"),
    ("anchor", "podcast", None, "Unassigned", "unassigned"),
    ("instasent", "sms-blast", None, "Unassigned", "unassigned"),
    ("app", "in-app", None, "Unassigned", "unassigned"),
    ("partner", "socialmedia", None, "Unassigned", "unassigned"),
    ("partner", "pushy", None, "Unassigned", "unassigned"),
    ("newsletter", "newsletter", None, "Unassigned", "unassigned"),
    ("email-newsletter", "blast", None, "Unassigned", "unassigned"),  # exact email reading
    (None, None, None, "Unassigned", "unassigned"),
    ("", "  ", "", "Unassigned", "unassigned"),
    ("firebasex", "(not set)", None, "Unassigned", "unassigned"),
]


@pytest.mark.parametrize(("source", "medium", "campaign", "channel", "rule"), CASES)
def test_channel_rules_in_order(
    source: str | None, medium: str | None, campaign: str | None, channel: str, rule: str
) -> None:
    assert channel_for(source, medium, campaign) == channel
    assert channel_for_uncached(source, medium, campaign) == channel
    explained = explain_channel(source, medium, campaign)
    assert (explained.channel, explained.rule, explained.ruleset) == (channel, rule, "ga4")
    assert explained.reason


def test_cases_cover_every_channel_in_order() -> None:
    seen = list(dict.fromkeys(channel for *_, channel, _ in CASES if channel != "Email"))
    assert [c for c in CHANNELS if c != "Email"] == [c for c in seen if c in CHANNELS]
    assert {channel for *_, channel, _ in CASES} == set(CHANNELS)


@pytest.mark.parametrize(
    ("campaign", "matches"),
    [
        ("workshop", False),
        ("bookshop", False),
        ("photoshop", False),
        ("shopify-webinar", True),
        ("eshop", True),
        ("reshop", True),
        ("summer-shop", True),
        ("shop_now", True),
        ("2024shop", True),
        ("workshopping", True),  # contains "shopping"
        ("sho-p", False),
        ("", False),
    ],
)
def test_shopping_campaign_pattern(campaign: str, matches: bool) -> None:
    ga4 = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
    assert is_shopping_campaign(campaign) is matches
    assert (ga4.fullmatch(campaign) is not None) is matches


@pytest.mark.parametrize(
    ("medium", "paid"),
    [
        ("cpc", True),
        ("cpm", True),
        ("cpv", True),
        ("cpa", True),
        ("ecpm", True),
        ("ppc", True),
        ("retargeting", True),
        ("paid", True),
        ("paid-social", True),
        ("paidsearch", True),
        ("ppc-ads", False),
        ("social-paid", False),
        ("sponsored", False),
        ("remarketing", False),
        ("display", False),
    ],
)
def test_paid_pattern(medium: str, paid: bool) -> None:
    assert is_paid_medium(medium) is paid
    assert (re.fullmatch(r"^(.*cp.*|ppc|retargeting|paid.*)$", medium) is not None) is paid


@pytest.mark.parametrize(
    ("source", "medium", "campaign"),
    [("FaceBook", "EMAIL", None), ("GOOGLE", "CPC", "X"), ("  Youtube ", " Organic ", None)],
)
def test_case_and_whitespace_insensitive(source: str, medium: str, campaign: str | None) -> None:
    lower = channel_for(source.strip().lower(), medium.strip().lower(), campaign)
    assert channel_for(source, medium, campaign) == lower


def test_ga4_2026_adds_ai_assistant_after_cross_network() -> None:
    assert channel_for("chatgpt.com", "ai-assistant", "(ai-assistant)") == "Unassigned"
    got = channel_for("chatgpt.com", "ai-assistant", "(ai-assistant)", ruleset="ga4-2026")
    assert got == AI_ASSISTANT
    # before the source lists: a recognised assistant is never Organic Social/Search
    assert channel_for("facebook", "AI-Assistant", None, ruleset="ga4-2026") == AI_ASSISTANT
    # after Direct and Cross-network, which GA4 keeps first
    assert channel_for("x", "ai-assistant", "cross-network", ruleset="ga4-2026") == "Cross-network"
    # everything else is unchanged
    for source, medium, campaign, channel, _ in CASES:
        assert channel_for(source, medium, campaign, ruleset="ga4-2026") == channel
    assert RULESET_CHANNELS["ga4-2026"][:3] == ("Direct", "Cross-network", AI_ASSISTANT)
    assert RULESET_CHANNELS["ga4"] == CHANNELS


def test_constants() -> None:
    assert RULESETS == ("ga4", "ga4-2026")
    assert DEFAULT_RULESET == "ga4"
    assert RULESET_VERSION == "ga4-2023-11"
    assert len(CHANNELS) == 19 and CHANNELS[-1] == "Unassigned"


@pytest.mark.parametrize("ruleset", ["ga3", "", "GA4"])
def test_unknown_ruleset(ruleset: str) -> None:
    with pytest.raises(InvalidInput, match="valid rulesets are ga4, ga4-2026"):
        channel_for("google", "cpc", ruleset=ruleset)
    with pytest.raises(InvalidInput):
        explain_channel("google", "cpc", ruleset=ruleset)


def test_explain_mentions_social_networks_missing_from_ga4() -> None:
    reason = explain_channel("x.com", "referral").reason
    assert "not on GA4's social list" in reason
    assert "use a medium GA4 knows" in explain_channel("x", "podcast").reason
