"""Hypothesis properties of channel_for and traffic_source."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tagtrail.channels import (
    RULESET_CHANNELS,
    channel_for,
    channel_for_uncached,
    is_paid_medium,
    is_shopping_campaign,
    traffic_source,
)
from tagtrail.errors import InvalidInput

TOKENS = st.sampled_from(
    [
        "google",
        "facebook",
        "email",
        "cpc",
        "cpm",
        "sms",
        "push",
        "organic",
        "referral",
        "shop",
        "(direct)",
        "(none)",
        "video",
        "social",
        "firebase",
        "cross-network",
        "ai-assistant",
        "",
    ]
)
TEXT = st.one_of(st.none(), st.text(max_size=30), TOKENS)
CASED = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_ ()", max_size=20) | TOKENS
PAID = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
SHOP = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")


@given(TEXT, TEXT, TEXT, st.sampled_from(["ga4", "ga4-2026"]))
def test_always_a_known_channel(
    source: str | None, medium: str | None, campaign: str | None, ruleset: str
) -> None:
    got = channel_for(source, medium, campaign, ruleset=ruleset)
    assert got in RULESET_CHANNELS[ruleset]
    assert channel_for_uncached(source, medium, campaign, ruleset=ruleset) == got


@given(CASED, CASED, CASED)
def test_case_insensitive(source: str, medium: str, campaign: str) -> None:
    expected = channel_for(source.lower(), medium.lower(), campaign.lower())
    assert channel_for(source.upper(), medium.upper(), campaign.upper()) == expected
    assert channel_for(source.title(), medium.swapcase(), campaign) == expected


@given(st.text(alphabet="acdepst-_ 0é\n", max_size=12))
def test_string_tests_equal_googles_regexes(value: str) -> None:
    value = value.lower()
    if "\n" not in value:
        assert is_paid_medium(value) == (PAID.fullmatch(value) is not None)
        assert is_shopping_campaign(value) == (SHOP.fullmatch(value) is not None)


@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=60)))
def test_traffic_source_never_fails_on_a_referrer(path: str, referrer: str | None) -> None:
    got = traffic_source("https://example.com/?" + path, referrer)
    assert got.channel in RULESET_CHANNELS["ga4"]


@given(st.text(max_size=80))
def test_landing_url_either_parses_or_raises_invalid_input(url: str) -> None:
    try:
        got = traffic_source(url)
    except InvalidInput as exc:
        assert exc.message and exc.hint
    else:
        assert got.channel in RULESET_CHANNELS["ga4"]
