"""traffic_source: every branch of the derivation, in order."""

from __future__ import annotations

import dataclasses

import pytest

from tagtrail.channels import TrafficSource, traffic_source
from tagtrail.errors import InvalidInput

LANDING = "https://shop.example/landing"


def _triple(t: TrafficSource) -> tuple[str, str, str, str]:
    return t.source, t.medium, t.campaign, t.channel


@pytest.mark.parametrize("click_id", ["gclid", "gbraid", "wbraid"])
def test_google_ads_click_ids_win_over_utms(click_id: str) -> None:
    url = f"{LANDING}?utm_source=newsletter&utm_medium=email&utm_campaign=x&{click_id}=Cj0KC"
    got = traffic_source(url, "https://www.bing.com/")
    assert _triple(got) == ("google", "cpc", "(not set)", "Paid Search")
    assert got.click_id == click_id
    assert got.content is None and got.term is None


def test_google_click_id_names_are_lower_case_only() -> None:
    got = traffic_source(f"{LANDING}?GCLID=abc")
    assert _triple(got) == ("(direct)", "(none)", "(direct)", "Direct")


def test_empty_click_id_is_ignored() -> None:
    assert traffic_source(f"{LANDING}?gclid=").channel == "Direct"


def test_srsltid_without_utms_is_organic_shopping() -> None:
    got = traffic_source(f"{LANDING}?srsltid=AfmBOo", "https://www.google.com/")
    assert _triple(got) == ("google", "organic", "Shopping Free Listings", "Organic Shopping")
    assert got.click_id == "srsltid"


def test_srsltid_with_utms_uses_the_utms() -> None:
    got = traffic_source(f"{LANDING}?srsltid=x&utm_source=newsletter&utm_medium=email")
    assert _triple(got) == ("newsletter", "email", "(not set)", "Email")
    assert got.click_id is None


def test_dclid_without_utms_is_display() -> None:
    got = traffic_source(f"{LANDING}?dclid=CJ")
    assert _triple(got) == ("dv360", "cpm", "(not set)", "Display")
    assert got.click_id == "dclid"
    with_utms = traffic_source(f"{LANDING}?dclid=CJ&utm_source=google&utm_medium=cpc")
    assert with_utms.channel == "Paid Search"


@pytest.mark.parametrize("click_id", ["fbclid", "msclkid", "ttclid", "li_fat_id", "ScCid"])
def test_other_click_ids_are_ignored_by_default(click_id: str) -> None:
    got = traffic_source(f"{LANDING}?{click_id}=1", "https://www.bing.com/")
    assert _triple(got) == ("bing", "organic", "(organic)", "Organic Search")
    assert got.click_id is None


@pytest.mark.parametrize(
    ("click_id", "source", "channel"),
    [
        ("msclkid", "bing", "Paid Search"),
        ("yclid", "yandex", "Paid Search"),
        ("ttclid", "tiktok", "Paid Social"),
        ("li_fat_id", "linkedin", "Paid Social"),
        ("twclid", "twitter", "Paid Social"),
        ("ScCid", "snapchat", "Paid Social"),
        ("sccid", "snapchat", "Paid Social"),
        ("epik", "pinterest", "Paid Social"),
        ("rdt_cid", "reddit", "Paid Social"),
    ],
)
def test_inferred_click_ids(click_id: str, source: str, channel: str) -> None:
    got = traffic_source(f"{LANDING}?{click_id}=1", infer_click_ids=True)
    assert _triple(got) == (source, "cpc", "(not set)", channel)
    assert got.click_id == click_id


def test_inferred_mode_never_uses_fbclid_and_yields_to_utms() -> None:
    got = traffic_source(f"{LANDING}?fbclid=1", "https://m.facebook.com/", infer_click_ids=True)
    assert _triple(got) == ("m.facebook.com", "referral", "(referral)", "Organic Social")
    utm = traffic_source(f"{LANDING}?msclkid=1&utm_source=bing&utm_medium=organic", None)
    assert utm.channel == "Organic Search"


def test_full_utms() -> None:
    url = (
        f"{LANDING}?utm_source=Newsletter&utm_medium=email&utm_campaign=spring+sale"
        "&utm_content=hero%20button&utm_term=running+shoes"
    )
    got = traffic_source(url, "https://www.google.com/")
    assert got == TrafficSource(
        "Newsletter", "email", "spring sale", "hero button", "running shoes", None, "Email"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("utm_source=facebook", ("facebook", "(not set)", "(not set)", "Organic Social")),
        ("utm_medium=email", ("(not set)", "email", "(not set)", "Email")),
        ("utm_campaign=summer-shop", ("(not set)", "(not set)", "summer-shop", "Organic Shopping")),
    ],
)
def test_partial_utms_ignore_the_referrer(query: str, expected: tuple[str, ...]) -> None:
    got = traffic_source(f"{LANDING}?{query}", "https://www.google.com/")
    assert _triple(got) == expected


def test_utm_names_are_lower_case_only_and_last_value_wins() -> None:
    upper = traffic_source(f"{LANDING}?UTM_SOURCE=newsletter&UTM_MEDIUM=email")
    assert upper.channel == "Direct"
    dup = traffic_source(f"{LANDING}?utm_source=a&utm_medium=cpc&utm_source=google")
    assert dup.source == "google" and dup.channel == "Paid Search"


def test_utms_in_fragment_are_not_read() -> None:
    got = traffic_source(f"{LANDING}#utm_source=newsletter&utm_medium=email")
    assert got.channel == "Direct"


def test_content_and_term_alone_do_not_make_a_campaign() -> None:
    got = traffic_source(f"{LANDING}?utm_content=a", "https://www.google.com/")
    assert _triple(got) == ("google", "organic", "(organic)", "Organic Search")


@pytest.mark.parametrize(
    "referrer",
    [
        "https://shop.example/other",
        "https://www.shop.example/",
        "https://blog.mysite.example/post",
        "https://MYSITE.example.:443/",
    ],
)
def test_self_referral_is_direct(referrer: str) -> None:
    got = traffic_source(LANDING, referrer, site_hosts=["www.mysite.example"])
    assert _triple(got) == ("(direct)", "(none)", "(direct)", "Direct")


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.google.com/", "google"),
        ("https://google.com/", "google"),
        ("https://www.google.co.uk/", "google"),
        ("https://www.google.com.br/search?q=x", "google"),
        ("https://images.google.de/", "google"),
        ("android-app://com.google.android.googlequicksearchbox/", "google"),
        ("https://www.bing.com/", "bing"),
        ("https://cn.bing.com/", "bing"),
        ("https://duckduckgo.com/", "duckduckgo"),
        ("https://uk.search.yahoo.com/", "yahoo"),
        ("https://search.yahoo.com/", "yahoo"),
        ("https://yandex.ru/", "yandex"),
        ("https://www.baidu.com/", "baidu"),
        ("https://www.ecosia.org/", "ecosia"),
    ],
)
def test_search_engines_are_organic(referrer: str, source: str) -> None:
    got = traffic_source(LANDING, referrer)
    assert _triple(got) == (source, "organic", "(organic)", "Organic Search")


@pytest.mark.parametrize(
    ("referrer", "source", "channel"),
    [
        ("https://m.facebook.com/story.php", "m.facebook.com", "Organic Social"),
        ("https://x.com/someone/status/1", "x.com", "Referral"),
        ("https://t.co/abc", "t.co", "Organic Social"),
        ("https://www.partner.example/blog", "partner.example", "Referral"),
        ("https://mail.google.com/", "mail.google.com", "Referral"),
        ("https://news.google.com/", "news.google.com", "Organic Search"),  # on GA4's list
        ("https://gemini.google.com/", "gemini.google.com", "Referral"),
        ("https://chatgpt.com/", "chatgpt.com", "Referral"),
        ("https://www.perplexity.ai/search", "perplexity.ai", "Referral"),
        ("android-app://com.slack/", "com.slack", "Referral"),
        ("https://www.youtube.com/", "youtube.com", "Organic Video"),
    ],
)
def test_other_referrers_are_referrals(referrer: str, source: str, channel: str) -> None:
    got = traffic_source(LANDING, referrer)
    assert _triple(got) == (source, "referral", "(referral)", channel)


@pytest.mark.parametrize(
    ("referrer", "source"),
    [("https://chatgpt.com/", "chatgpt.com"), ("https://www.perplexity.ai/", "perplexity.ai")],
)
def test_ai_assistants_under_ga4_2026(referrer: str, source: str) -> None:
    got = traffic_source(LANDING, referrer, ruleset="ga4-2026")
    assert _triple(got) == (source, "ai-assistant", "(ai-assistant)", "AI Assistant")
    # UTMs still win, and search engines stay search engines
    tagged = traffic_source(f"{LANDING}?utm_source=chatgpt.com", referrer, ruleset="ga4-2026")
    assert tagged.medium == "(not set)"
    assert traffic_source(LANDING, "https://www.google.com/", ruleset="ga4-2026").source == "google"


@pytest.mark.parametrize(
    "referrer", [None, "", "   ", "not a url", "http://[::1", "https://", "javascript:alert(1)"]
)
def test_absent_or_malformed_referrer_is_direct(referrer: str | None) -> None:
    got = traffic_source(LANDING, referrer)
    assert _triple(got) == ("(direct)", "(none)", "(direct)", "Direct")
    assert got.click_id is None


def test_bare_host_referrer_is_accepted() -> None:
    assert traffic_source(LANDING, "www.google.com").source == "google"


@pytest.mark.parametrize("url", ["", "   ", "example.com/landing", "http://[::1/x", "landing"])
def test_unparseable_landing_url(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        traffic_source(url)
    assert info.value.hint


def test_path_only_landing_url_is_accepted() -> None:
    got = traffic_source("/landing?utm_source=google&utm_medium=cpc")
    assert got.channel == "Paid Search"


def test_unknown_ruleset() -> None:
    with pytest.raises(InvalidInput, match="ga4-2026"):
        traffic_source(LANDING, ruleset="ga5")


def test_traffic_source_is_frozen() -> None:
    got = traffic_source(LANDING)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.source = "x"  # type: ignore[misc]
    assert not hasattr(got, "__dict__")
