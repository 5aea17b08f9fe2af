"""`tagtrail channel`, run in-process through the real entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Run = Callable[..., Any]

KEYS = ["source", "medium", "campaign", "content", "term", "click_id", "channel", "rule", "ruleset"]


def test_url_form_json(run_cli: Run) -> None:
    url = "https://shop.example/?utm_source=facebook&utm_medium=email&utm_term=a+b&gclid="
    result = run_cli("channel", "--url", url, "--json")
    assert result.code == 0
    doc = result.json()
    assert list(doc) == KEYS
    assert doc == {
        "source": "facebook",
        "medium": "email",
        "campaign": "(not set)",
        "content": None,
        "term": "a b",
        "click_id": None,
        "channel": "Organic Social",
        "rule": "source-social",
        "ruleset": "ga4",
    }


def test_url_with_referrer_and_site_host(run_cli: Run) -> None:
    doc = run_cli(
        "channel",
        "--url",
        "https://shop.example/",
        "--referrer",
        "https://www.google.de/",
        "--json",
    ).json()
    assert (doc["source"], doc["medium"], doc["channel"]) == ("google", "organic", "Organic Search")
    doc = run_cli(
        "channel",
        "--url",
        "https://shop.example/",
        "--referrer",
        "https://pay.example/return",
        "--site-host",
        "other.example",
        "--site-host",
        "pay.example",
        "--json",
    ).json()
    assert doc["channel"] == "Direct" and doc["rule"] == "direct"


def test_ruleset_2026(run_cli: Run) -> None:
    args = ["channel", "--url", "https://shop.example/", "--referrer", "https://chatgpt.com/"]
    assert run_cli(*args, "--json").json()["channel"] == "Referral"
    doc = run_cli(*args, "--ruleset", "ga4-2026", "--json").json()
    assert (doc["medium"], doc["channel"], doc["ruleset"]) == (
        "ai-assistant",
        "AI Assistant",
        "ga4-2026",
    )


def test_infer_click_ids(run_cli: Run) -> None:
    url = "https://shop.example/?ttclid=1"
    assert run_cli("channel", "--url", url, "--json").json()["channel"] == "Direct"
    doc = run_cli("channel", "--url", url, "--infer-click-ids", "--json").json()
    assert (doc["channel"], doc["click_id"]) == ("Paid Social", "ttclid")


def test_source_medium_form(run_cli: Run) -> None:
    result = run_cli("channel", "--source", "google", "--medium", "email", "--json")
    assert result.code == 0
    doc = result.json()
    assert list(doc) == KEYS
    assert doc["channel"] == "Organic Search"
    assert (doc["content"], doc["term"], doc["click_id"]) == (None, None, None)
    assert doc["campaign"] == "(not set)"


def test_human_output_says_why(run_cli: Run) -> None:
    result = run_cli(
        "channel", "--source", "newsletter", "--medium", "email", "--campaign", "summer-shop"
    )
    assert result.code == 0
    assert "Organic Shopping" in result.out
    assert "campaign `summer-shop` matches the shopping pattern" in result.out
    assert "campaign-shopping" in result.out
    result = run_cli("channel", "--source", "facebook", "--medium", "email")
    assert "source `facebook` is on GA4's social list" in result.out
    result = run_cli("channel", "--url", "https://a.example/?gclid=x")
    assert "Paid Search" in result.out and "gclid" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "https://a.example/", "--source", "x"], "cannot be combined with --source"),
        ([], "nothing to classify"),
        (["--source", "google"], "--medium is missing"),
        (["--medium", "cpc"], "--source is missing"),
        (["--source", "a", "--medium", "b", "--referrer", "https://x.example/"], "need --url"),
        (["--source", "a", "--medium", "b", "--ruleset", "ga5"], "ga5"),
    ],
)
def test_usage_errors(run_cli: Run, args: list[str], message: str) -> None:
    result = run_cli("channel", *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err + result.out
    as_json = run_cli("channel", *args, "--json")
    assert as_json.code == 2
    doc = as_json.json()
    assert doc["ok"] is False and message in doc["error"] and doc["status"] == 2


@pytest.mark.parametrize("url", ["example.com/landing", "http://[::1/x", " "])
def test_malformed_url(run_cli: Run, url: str) -> None:
    result = run_cli("channel", "--url", url)
    assert result.code == 1
    assert "landing URL" in result.err
    assert "Traceback" not in result.err
    doc = run_cli("channel", "--url", url, "--json").json()
    assert doc["ok"] is False and doc["status"] == 1 and len(doc["errors"]) == 2


def test_malformed_referrer_is_direct(run_cli: Run) -> None:
    result = run_cli(
        "channel", "--url", "https://a.example/", "--referrer", "http://[::1", "--json"
    )
    assert result.code == 0 and result.json()["channel"] == "Direct"


def test_help(run_cli: Run) -> None:
    result = run_cli("channel", "--help")
    assert result.code == 0
    for option in ("--url", "--referrer", "--site-host", "--source", "--medium", "--ruleset"):
        assert option in result.out
