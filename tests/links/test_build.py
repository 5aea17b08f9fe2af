"""build_link against DESIGN §4: URL handling, UTM assembly and every issue code."""

from __future__ import annotations

from typing import Any

import pytest

from tagtrail.links import CODES, build_link
from tagtrail.links.build import BuildResult


def codes(result: BuildResult) -> list[str]:
    return [i.code for i in result.issues]


def only(result: BuildResult, code: str) -> Any:
    matches = [i for i in result.issues if i.code == code]
    assert len(matches) == 1, codes(result)
    return matches[0]


BASE = {"source": "newsletter", "medium": "email", "campaign": "spring"}


def test_plain_build() -> None:
    result = build_link("https://example.com/pricing", **BASE)
    assert result.status == "ok"
    assert result.tracked_url == (
        "https://example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    )
    assert result.channel == "Email"
    assert result.issues == ()
    assert result.to_json() == {
        "status": "ok",
        "tracked_url": result.tracked_url,
        "channel": "Email",
        "issues": [],
    }


def test_utm_order_is_fixed_and_all_fields_are_written() -> None:
    result = build_link(
        "https://example.com/",
        marketing_tactic="Prospecting",
        creative_format="Video",
        source_platform="Search Ads 360",
        content="Hero Button",
        term="Running Shoes",
        id="Q3_2024",
        **BASE,
    )
    assert result.tracked_url == (
        "https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
        "&utm_id=Q3_2024&utm_term=running-shoes&utm_content=hero-button"
        "&utm_source_platform=search-ads-360&utm_creative_format=video"
        "&utm_marketing_tactic=prospecting"
    )


def test_non_utm_query_is_kept_byte_for_byte_in_order() -> None:
    url = "https://example.com/p?b=2&preview&q=a+b&utm_source=old&x=%20y&a=1"
    result = build_link(url, **BASE)
    assert result.tracked_url is not None
    query = result.tracked_url.split("?", 1)[1]
    assert query.startswith("b=2&preview&q=a+b&x=%20y&a=1&utm_source=newsletter")


def test_fragment_kept_after_query() -> None:
    result = build_link("https://example.com/docs#install", **BASE)
    assert result.tracked_url is not None
    assert result.tracked_url.endswith("utm_campaign=spring#install")


def test_existing_utms_kept_and_normalised_when_not_overridden() -> None:
    result = build_link(
        "https://example.com/?utm_source=Intercom&utm_medium=email&utm_content=Top+Banner",
        campaign="launch",
    )
    assert result.tracked_url == (
        "https://example.com/?utm_source=intercom&utm_medium=email&utm_campaign=launch"
        "&utm_content=top-banner"
    )
    normalised = [i for i in result.issues if i.code == "I_NORMALIZED"]
    assert {i.field for i in normalised} == {"source", "content"}


def test_unicode_values_are_kept_and_percent_encoded() -> None:
    result = build_link(
        "https://example.com/", source="newsletter", medium="email", campaign="Café Crème"
    )
    assert result.tracked_url is not None
    assert result.tracked_url.endswith("utm_campaign=caf%C3%A9-cr%C3%A8me")
    assert result.utm["campaign"] == "café-crème"


# --- URL handling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM", "https://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a b/ü", "https://example.com/a%20b/%C3%BC"),
        ("https://example.com/a%20b", "https://example.com/a%20b"),
        ("https://example.com/?&&a=1&&", "https://example.com/?a=1&"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ],
)
def test_url_normalisation(url: str, expected: str) -> None:
    result = build_link(url, **BASE)
    assert result.tracked_url is not None
    assert result.tracked_url.startswith(expected), result.tracked_url


def test_url_normalisation_is_reported() -> None:
    result = build_link("HTTPS://Example.COM:443", **BASE)
    assert result.status == "ok"
    assert "I_URL_NORMALIZED" in codes(result)
    assert build_link("https://example.com/", **BASE).issues == ()


def test_empty_query_after_question_mark_is_dropped() -> None:
    result = build_link("https://example.com/x?", **BASE)
    assert result.tracked_url == (
        "https://example.com/x?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    )
    assert "I_URL_NORMALIZED" in codes(result)


def test_idn_host_is_punycoded() -> None:
    result = build_link("https://bücher.example/angebot", **BASE)
    assert result.tracked_url is not None
    assert result.tracked_url.startswith("https://xn--bcher-kva.example/angebot?")
    assert "I_IDN_ENCODED" in codes(result)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("example.com/landing", "E_SCHEME_MISSING"),
        ("www.example.com", "E_SCHEME_MISSING"),
        ("//example.com/x", "E_SCHEME_MISSING"),
        ("localhost:8080/x", "E_SCHEME_MISSING"),
        ("ftp://example.com/file", "E_SCHEME_UNSUPPORTED"),
        ("javascript:alert(1)", "E_SCHEME_UNSUPPORTED"),
        ("mailto:someone@example.com", "E_SCHEME_UNSUPPORTED"),
        ("data:text/html,hi", "E_SCHEME_UNSUPPORTED"),
        ("file:///etc/passwd", "E_SCHEME_UNSUPPORTED"),
        ("https://", "E_URL_INVALID"),
        ("https:example.com", "E_URL_INVALID"),
        ("https://exa mple.com/", "E_URL_INVALID"),
        ("https://exa_mple..com/", "E_URL_INVALID"),
        ("https://example.com:99999/", "E_URL_INVALID"),
        ("https://[::1/", "E_URL_INVALID"),
        ("https://-bad-.com/", "E_URL_INVALID"),
        ("https://user:pw@example.com/", "E_URL_CREDENTIALS"),
        ("https://user@example.com/", "E_URL_CREDENTIALS"),
    ],
)
def test_url_errors(url: str, code: str) -> None:
    result = build_link(url, **BASE)
    assert result.status == "error"
    assert result.tracked_url is None
    issue = only(result, code)
    assert issue.level == "error" and issue.field == "url" and issue.message


def test_missing_scheme_suggests_https() -> None:
    issue = only(build_link("example.com/landing", **BASE), "E_SCHEME_MISSING")
    assert issue.suggestion == "add https:// in front: https://example.com/landing"
    assert issue.fix == "https://example.com/landing"


def test_insecure_http_warns_but_builds() -> None:
    result = build_link("http://example.com/", **BASE)
    assert result.status == "warning"
    assert result.tracked_url is not None and result.tracked_url.startswith("http://")
    assert "https://example.com/" in only(result, "W_INSECURE_HTTP").suggestion


@pytest.mark.parametrize("host", ["play.google.com", "itunes.apple.com", "apps.apple.com"])
def test_app_store_url(host: str) -> None:
    result = build_link(f"https://{host}/store/apps/details?id=com.example", **BASE)
    assert only(result, "W_APP_STORE_URL").level == "warning"


def test_url_too_long() -> None:
    result = build_link("https://example.com/" + "a" * 990, **BASE)
    assert only(result, "W_URL_TOO_LONG").field == "url"
    assert result.tracked_url is not None and len(result.tracked_url) > 1000
    assert "W_URL_TOO_LONG" not in codes(build_link("https://example.com/" + "a" * 900, **BASE))


# --- UTM assembly -----------------------------------------------------------------------


def test_supplied_value_replaces_existing_with_warning() -> None:
    result = build_link("https://example.com/?utm_source=facebook&utm_medium=email", **BASE)
    issue = only(result, "W_UTM_REPLACED")
    assert issue.field == "source" and "facebook" in issue.message
    assert result.tracked_url is not None and "utm_source=facebook" not in result.tracked_url


def test_same_value_after_normalisation_is_not_a_replacement() -> None:
    result = build_link("https://example.com/?utm_source=Newsletter", **BASE)
    assert "W_UTM_REPLACED" not in codes(result)


def test_duplicate_utm_last_wins() -> None:
    result = build_link(
        "https://example.com/?utm_campaign=a&utm_source=x&utm_medium=email&utm_campaign=b"
    )
    assert only(result, "W_DUPLICATE_UTM").field == "campaign"
    assert result.utm["campaign"] == "b"
    assert result.tracked_url is not None and result.tracked_url.count("utm_campaign") == 1


def test_utms_in_fragment_move_to_query() -> None:
    result = build_link("https://example.com/page#utm_source=ads&utm_medium=cpc", campaign="x")
    assert only(result, "W_UTM_IN_FRAGMENT").level == "warning"
    assert result.tracked_url == (
        "https://example.com/page?utm_source=ads&utm_medium=cpc&utm_campaign=x"
    )


def test_fragment_keeps_its_non_utm_part() -> None:
    result = build_link("https://example.com/#top&utm_content=hero", **BASE)
    assert result.tracked_url is not None
    assert result.tracked_url.endswith("&utm_content=hero#top")


def test_upper_case_utm_names_are_removed() -> None:
    result = build_link("https://example.com/?UTM_SOURCE=x&Utm_Medium=y", **BASE)
    found = [i for i in result.issues if i.code == "W_UTM_NAME_CASE"]
    assert [i.field for i in found] == ["source", "medium"]
    assert result.tracked_url is not None
    assert "UTM_SOURCE" not in result.tracked_url and "Utm_Medium" not in result.tracked_url


@pytest.mark.parametrize(
    "name",
    "gclid gbraid wbraid dclid gclsrc fbclid msclkid ttclid twclid li_fat_id ScCid epik rdt_cid "
    "yclid srsltid GCLID".split(),
)
def test_click_ids_are_removed(name: str) -> None:
    result = build_link(f"https://example.com/?keep=1&{name}=abc123", **BASE)
    assert only(result, "W_CLICK_ID_REMOVED").level == "warning"
    assert result.tracked_url is not None and name not in result.tracked_url
    assert "keep=1" in result.tracked_url


def test_source_and_medium_from_the_url_satisfy_the_requirement() -> None:
    result = build_link("https://example.com/?utm_source=newsletter&utm_medium=email", campaign="c")
    assert result.status == "ok"


@pytest.mark.parametrize(
    ("field", "code"), [("source", "E_MISSING_SOURCE"), ("medium", "E_MISSING_MEDIUM")]
)
def test_missing_source_or_medium(field: str, code: str) -> None:
    values = {k: v for k, v in BASE.items() if k != field}
    result = build_link("https://example.com/", **values)
    assert only(result, code).field == field
    assert result.tracked_url is None


def test_empty_value() -> None:
    result = build_link("https://example.com/", source="!!!", medium="email", campaign="c")
    assert only(result, "E_EMPTY_VALUE").field == "source"
    assert "E_MISSING_SOURCE" not in codes(result)


@pytest.mark.parametrize("bad", ["has space", "x" * 101, "é", ""])
def test_invalid_id(bad: str) -> None:
    result = build_link("https://example.com/", id=bad, **BASE)
    assert only(result, "E_INVALID_ID").field == "id"


def test_id_keeps_its_case_and_is_trimmed() -> None:
    result = build_link("https://example.com/", source="a", medium="email", id="  Q3-Launch ")
    assert result.utm["id"] == "Q3-Launch"
    assert "W_MISSING_CAMPAIGN" not in codes(result)


def test_missing_campaign() -> None:
    result = build_link("https://example.com/", source="newsletter", medium="email")
    assert only(result, "W_MISSING_CAMPAIGN").level == "warning"
    assert result.status == "warning"


# --- warnings from the GA4 prediction ---------------------------------------------------


def test_domain_as_source_suggests_platform_name() -> None:
    for source, name in [
        ("intercom.com", "intercom"),
        ("m.facebook.com", "facebook"),
        ("news.bbc.co.uk", "bbc"),
    ]:
        issue = only(
            build_link("https://example.com/", source=source, medium="email", campaign="c"),
            "W_DOMAIN_AS_SOURCE",
        )
        assert issue.fix == name and f"--source {name}" in issue.suggestion


def test_unassigned_suggests_a_recognised_medium() -> None:
    result = build_link("https://example.com/", source="intercom", medium="in-app", campaign="c")
    assert result.channel == "Unassigned"
    issue = only(result, "W_UNASSIGNED")
    assert issue.fix == "app"
    assert (
        build_link("https://example.com/", source="intercom", medium="app", campaign="c").channel
        == "Referral"
    )


def test_unassigned_without_a_close_medium_lists_ga4_mediums() -> None:
    issue = only(
        build_link("https://example.com/", source="acme", medium="qr-code", campaign="c"),
        "W_UNASSIGNED",
    )
    assert issue.fix is None and "email" in issue.suggestion


@pytest.mark.parametrize(
    ("campaign", "channel"),
    [("black-friday-shop", "Organic Shopping"), ("cross-network-q3", "Cross-network")],
)
def test_campaign_overrides_channel(campaign: str, channel: str) -> None:
    result = build_link(
        "https://example.com/", source="newsletter", medium="email", campaign=campaign
    )
    assert result.channel == channel
    assert only(result, "W_CAMPAIGN_OVERRIDES_CHANNEL").field == "campaign"


def test_workshop_campaign_does_not_override() -> None:
    result = build_link(
        "https://example.com/", source="newsletter", medium="email", campaign="workshop"
    )
    assert result.channel == "Email" and result.status == "ok"


@pytest.mark.parametrize(
    ("source", "medium", "channel"),
    [
        ("google", "email", "Organic Search"),
        ("facebook", "email", "Organic Social"),
        ("whatsapp", "sms", "Organic Social"),
        ("youtube", "organic", "Organic Video"),
    ],
)
def test_source_overrides_medium(source: str, medium: str, channel: str) -> None:
    result = build_link("https://example.com/", source=source, medium=medium, campaign="c")
    assert result.channel == channel
    assert only(result, "W_SOURCE_OVERRIDES_MEDIUM").field == "source"


def test_paid_refinement_is_not_an_override() -> None:
    # `cpm` alone is Display; with google it is Paid Search, which is what a paid medium intends.
    result = build_link("https://example.com/", source="google", medium="cpm", campaign="c")
    assert result.channel == "Paid Search"
    assert "W_SOURCE_OVERRIDES_MEDIUM" not in codes(result)


def test_new_user_example_explains_all_three_problems() -> None:
    result = build_link(
        "example.com/x", source="Intercom.com", medium="in-app", campaign="Onboarding Series"
    )
    assert result.status == "error" and result.tracked_url is None
    found = {i.code: i for i in result.issues}
    assert found["E_SCHEME_MISSING"].fix == "https://example.com/x"
    assert found["W_DOMAIN_AS_SOURCE"].fix == "intercom"
    assert found["W_UNASSIGNED"].fix == "app"
    assert found["I_NORMALIZED"].fix == "onboarding-series" or any(
        i.fix == "onboarding-series" for i in result.issues if i.code == "I_NORMALIZED"
    )
    assert [i.level for i in result.issues] == sorted(
        (i.level for i in result.issues), key=["error", "warning", "info"].index
    )


def test_every_issue_names_a_known_code_with_its_level() -> None:
    result = build_link(
        "http://example.com/?UTM_SOURCE=a&gclid=1#utm_term=x", source="x.com", medium="in-app"
    )
    for issue in result.issues:
        assert CODES[issue.code][0] == issue.level
        assert issue.message


def test_wrong_case_name_does_not_hide_a_missing_source() -> None:
    result = build_link("https://example.com/?UTM_SOURCE=x", medium="email", campaign="c")
    assert {"W_UTM_NAME_CASE", "E_MISSING_SOURCE"} <= set(codes(result))


@pytest.mark.parametrize(
    "url", ["https://ü..com/", "https://[::1]x/", "https://[zz]/", "https://a\u200db.com/"]
)
def test_more_invalid_hosts(url: str) -> None:
    assert only(build_link(url, **BASE), "E_URL_INVALID").field == "url"


def test_percent_encoded_utm_names_are_recognised() -> None:
    result = build_link("https://example.com/?utm%5Fsource=Old", medium="email", campaign="c")
    assert result.utm["source"] == "old"
    assert result.tracked_url is not None and "utm%5Fsource" not in result.tracked_url
