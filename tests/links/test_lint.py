from __future__ import annotations

from tagtrail.links import lint_link


def test_lint_reports_without_rewriting_and_suggests_the_normalised_url() -> None:
    url = "https://Example.com/p?utm_source=Intercom.com&utm_medium=in-app&gclid=x"
    result = lint_link(url)
    assert result.url == url
    assert result.status == "warning"
    assert {i.code for i in result.issues} >= {
        "W_DOMAIN_AS_SOURCE",
        "W_UNASSIGNED",
        "W_CLICK_ID_REMOVED",
        "W_MISSING_CAMPAIGN",
        "I_NORMALIZED",
        "I_URL_NORMALIZED",
    }
    assert result.suggested_url == (
        "https://example.com/p?utm_source=intercom.com&utm_medium=in-app"
    )
    assert result.changed
    assert result.to_json()["suggested_url"] == result.suggested_url


def test_clean_url_is_ok_and_unchanged() -> None:
    url = "https://example.com/?utm_source=intercom&utm_medium=email&utm_campaign=welcome"
    result = lint_link(url)
    assert result.status == "ok" and result.issues == () and not result.changed


def test_untracked_url_misses_source_and_medium() -> None:
    result = lint_link("https://example.com/")
    assert result.status == "error" and result.suggested_url is None
    assert {i.code for i in result.issues} >= {"E_MISSING_SOURCE", "E_MISSING_MEDIUM"}
