"""Unit-level hop logic: refresh parsing, script detection, certificates, UTMs and the rules."""

from __future__ import annotations

import ssl

import pytest
import trustme

from tagtrail.check.html import find_js_redirect, find_meta_refresh, parse_refresh
from tagtrail.check.results import Hop
from tagtrail.check.rules import ChainEnd, evaluate
from tagtrail.check.tls import hostname_matches, parse_certificate
from tagtrail.check.utm import compare, fragment_utms, url_utms


@pytest.mark.parametrize(
    ("value", "target"),
    [
        ("0; url=/next", "/next"),
        ("0;URL='https://a.example/?x=1'", "https://a.example/?x=1"),
        ('5 ; url="/q"', "/q"),
        ("0, https://b.example/", "https://b.example/"),
        ("30", None),
        ("", None),
    ],
)
def test_parse_refresh(value: str, target: str | None) -> None:
    assert parse_refresh(value) == target


def test_meta_refresh_in_markup() -> None:
    body = b'<html><head><META HTTP-EQUIV="refresh" CONTENT="0;url=/x?a=1&amp;b=2"></head>'
    assert find_meta_refresh(body) == "/x?a=1&b=2"
    assert find_meta_refresh(b'<meta name="viewport" content="0; url=/no">') is None


@pytest.mark.parametrize(
    "script",
    [
        "location.href = '/x'",
        "window.location='/x'",
        "document.location = u",
        "window.location.replace('/x')",
        "location.assign(u)",
    ],
)
def test_js_redirects_are_detected(script: str) -> None:
    assert find_js_redirect(f"<script>{script}</script>".encode()) is not None


def test_js_comparison_is_not_a_redirect() -> None:
    assert find_js_redirect(b"<script>if (location.href == x) {}</script>") is None


def test_certificate_parsing_and_wildcards() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("*.shop.test", "203.0.113.7")
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    facts = parse_certificate(der)
    assert facts.dns_names == ("*.shop.test",)
    assert facts.ip_addresses == ("203.0.113.7",)
    assert hostname_matches(facts, "www.shop.test")
    assert hostname_matches(facts, "WWW.Shop.Test.")
    assert not hostname_matches(facts, "shop.test")
    assert not hostname_matches(facts, "a.b.shop.test")
    assert hostname_matches(facts, "203.0.113.7")


def test_utm_comparison() -> None:
    first = url_utms("https://a.example/?utm_source=x&utm_medium=email&UTM_CAMPAIGN=no&q=1")
    assert first == {"utm_source": "x", "utm_medium": "email"}
    diff = compare(first, url_utms("https://b.example/?utm_medium=sms&utm_term="))
    assert diff.lost == ("utm_source",)
    assert diff.changed == (("utm_medium", "email", "sms"),)
    assert diff.present == (("utm_medium", "sms"), ("utm_term", ""))
    assert fragment_utms("https://a.example/#utm_source=x") == {"utm_source": "x"}


def hop(url: str, status: int | None = 200, ms: float = 10.0, **kwargs: object) -> Hop:
    first = url_utms(kwargs.pop("first", url))  # type: ignore[arg-type]
    diff = compare(first, url_utms(url))
    return Hop(
        url=url,
        status=status,
        location=None,
        redirect=None,
        elapsed_ms=ms,
        utm=diff.present,
        utm_lost=diff.lost,
        utm_changed=diff.changed,
        **kwargs,  # type: ignore[arg-type]
    )


def verdicts(*hops: Hop, end: ChainEnd | None = None) -> dict[str, str]:
    return {c.check: c.status for c in evaluate(hops, end or ChainEnd())}


U = "utm_source=a&utm_medium=b&utm_campaign=c"


def test_rules_on_a_clean_chain() -> None:
    first = f"https://a.example/?{U}"
    result = verdicts(hop(first, 301), hop(f"https://b.example/?{U}", first=first))
    assert set(result.values()) == {"pass"}


def test_rules_restored_and_changed_utms_warn() -> None:
    first = f"https://a.example/?{U}"
    restored = verdicts(
        hop(first, 302),
        hop("https://b.example/", 302, first=first),
        hop(first + "&x=1", first=first),
    )
    assert restored["redirects"] == "warn"
    changed = verdicts(
        hop(first, 302),
        hop("https://b.example/?utm_source=z&utm_medium=b&utm_campaign=c", first=first),
    )
    assert changed["redirects"] == "warn"


@pytest.mark.parametrize(("ms", "status"), [(1500, "pass"), (1501, "warn"), (3001, "fail")])
def test_timing_thresholds(ms: float, status: str) -> None:
    assert verdicts(hop(f"https://a.example/?{U}", ms=ms))["timing"] == status


def test_link_without_utms_warns() -> None:
    assert verdicts(hop("https://a.example/"))["utm_in_final"] == "warn"
