"""Bot and scanner clicks (DESIGN §6, rules B2–B3): 20 automation agents, 11 real browsers."""

from __future__ import annotations

import json
from importlib.resources import files
from ipaddress import ip_network

import pytest

from tagtrail.clicks import (
    HARD_REASONS,
    REASONS,
    SOFT_REASONS,
    BotRules,
    ClickFacts,
    classify_click,
)
from tagtrail.clicks.networks import SCANNER_NETWORKS, NetworkTable, scanner_table

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
HOME_IP = "198.51.100.23"
MICROSOFT_IP = "40.107.22.101"

SCANNER_AGENTS = {
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "python-requests": "python-requests/2.31.0",
    "Barracuda Sentinel": "Barracuda Sentinel (EE)",
    "GoogleImageProxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
    "(via ggpht.com GoogleImageProxy)",
    "HeadlessChrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.109 Safari/537.36",
    "curl": "curl/8.4.0",
    "Go-http-client": "Go-http-client/1.1",
    "Apache-HttpClient": "Apache-HttpClient/4.5.13 (Java/17.0.2)",
    "okhttp": "okhttp/4.12.0",
    "Java": "Java/1.8.0_392",
    "BingPreview": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) "
    "BingPreview/1.0b",
    "Slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "LinkedInBot": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot": "Twitterbot/1.0",
    "bitlybot": "bitlybot/3.0 (+http://bit.ly/)",
    "Scrapy": "Scrapy/2.11.0 (+https://scrapy.org)",
    "axios": "axios/1.6.2",
    "node-fetch": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
}

BROWSER_AGENTS = {
    "Chrome desktop": CHROME,
    "Firefox desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 "
    "Firefox/125.0",
    "Safari desktop": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Edge desktop": CHROME + " Edg/124.0.2478.51",
    "iPhone Safari": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Android Chrome": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Samsung Internet": "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Facebook in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/458.0.0.38.108;"
    "FBBV/601110946;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;"
    "FBLC/en_US;FBOP/5]",
    "Instagram in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 327.0.0.29.90 "
    "(iPhone15,2; iOS 17_4; en_US; en; scale=3.00; 1179x2556; 590197488)",
    "Gmail iOS app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 GmailApp/6.0",
    "Android WebView": "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
}


def facts(**overrides: object) -> ClickFacts:
    values: dict[str, object] = {
        "method": "GET",
        "user_agent": CHROME,
        "headers": {},
        "ip": HOME_IP,
    }
    values.update(overrides)
    return ClickFacts(**values)  # type: ignore[arg-type]


def test_counts() -> None:
    assert len(SCANNER_AGENTS) == 20 and len(BROWSER_AGENTS) == 11


@pytest.mark.parametrize("name", sorted(SCANNER_AGENTS))
def test_scanner_and_automation_agents_are_bots(name: str) -> None:
    verdict = classify_click(facts(user_agent=SCANNER_AGENTS[name]))
    assert verdict.is_bot
    assert verdict.reasons == ("crawler_ua",)


def test_no_scanner_agent_is_a_human_click() -> None:
    humans = [
        n for n, ua in SCANNER_AGENTS.items() if not classify_click(facts(user_agent=ua)).is_bot
    ]
    assert humans == []


@pytest.mark.parametrize("name", sorted(BROWSER_AGENTS))
def test_real_browsers_are_not_flagged(name: str) -> None:
    verdict = classify_click(facts(user_agent=BROWSER_AGENTS[name]))
    assert not verdict.is_bot
    assert verdict.reasons == ()


def test_eleven_browsers_zero_flagged_even_with_one_soft_signal() -> None:
    flagged = [
        name
        for name, ua in BROWSER_AGENTS.items()
        for extra in (
            {"seconds_since_send": 3.0},
            {"ip": MICROSOFT_IP},
            {"recent_message_links": 2},
        )
        if classify_click(facts(user_agent=ua, **extra)).is_bot
    ]
    assert flagged == []


@pytest.mark.parametrize("method", ["HEAD", "head", " Head "])
def test_head_is_a_bot(method: str) -> None:
    assert classify_click(facts(method=method)).reasons == ("head",)
    assert classify_click(facts(method=method)).is_bot


@pytest.mark.parametrize(
    "headers",
    [
        {"purpose": "prefetch"},
        {"sec-purpose": "prefetch"},
        {"sec-purpose": "prefetch;prerender"},
        {"sec-purpose": "prefetch;anonymous-client-ip"},
        {"x-purpose": "preview"} | {"purpose": "Prerender"},
        {"x-purpose": "prefetch"},
        {"x-moz": "prefetch"},
        {"x-moz": " Prefetch "},
    ],
)
def test_prefetch_headers_are_bots(headers: dict[str, str]) -> None:
    verdict = classify_click(facts(headers=headers))
    assert verdict.is_bot and verdict.reasons == ("prefetch",)


def test_other_purpose_values_are_not_prefetch() -> None:
    assert not classify_click(facts(headers={"x-purpose": "preview", "x-moz": "other"})).is_bot


@pytest.mark.parametrize("ua", ["", " ", "\t\n"])
def test_empty_user_agent_is_a_bot(ua: str) -> None:
    verdict = classify_click(facts(user_agent=ua))
    assert verdict.is_bot and verdict.reasons == ("empty_ua",)


def test_honeypot_is_a_bot() -> None:
    verdict = classify_click(facts(honeypot=True))
    assert verdict.is_bot and verdict.reasons == ("honeypot",)


def test_timing_alone_is_not_a_bot_but_is_recorded() -> None:
    verdict = classify_click(facts(seconds_since_send=2.0))
    assert not verdict.is_bot and verdict.reasons == ("fast_after_send",)
    assert classify_click(facts(seconds_since_send=10.0)).reasons == ()
    assert classify_click(facts(seconds_since_send=None)).reasons == ()
    assert classify_click(facts(seconds_since_send=-5.0)).reasons == ("fast_after_send",)


def test_timing_plus_scanner_ip_is_a_bot() -> None:
    verdict = classify_click(facts(seconds_since_send=1.5, ip=MICROSOFT_IP))
    assert verdict.is_bot and verdict.reasons == ("fast_after_send", "scanner_ip")


def test_timing_plus_burst_is_a_bot() -> None:
    verdict = classify_click(facts(seconds_since_send=4.0, recent_message_links=2))
    assert verdict.is_bot and verdict.reasons == ("fast_after_send", "burst")


def test_burst_plus_scanner_referrer_is_a_bot() -> None:
    referer = "https://url.uk.m.mimecastprotect.com/s/AbCdEf?domain=example.com"
    verdict = classify_click(facts(recent_message_links=5, headers={"referer": referer}))
    assert verdict.is_bot and verdict.reasons == ("burst", "scanner_referrer")


def test_burst_threshold() -> None:
    assert classify_click(facts(recent_message_links=1)).reasons == ()
    assert classify_click(facts(recent_message_links=2)).reasons == ("burst",)
    assert classify_click(facts(recent_message_links=1), BotRules(burst_links=2)).reasons == (
        "burst",
    )


@pytest.mark.parametrize(
    "referer",
    [
        "https://url.us.m.mimecastprotect.com/s/x8XCC?domain=example.com",
        "https://protect-eu.mimecast.com/s/abc",
        "https://urldefense.proofpoint.com/v2/url?u=https-3A__example.com&d=DwMF",
        "https://urldefense.com/v3/__https://example.com__;!!abc",
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fexample.com",
        "https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fexample.com",
    ],
)
def test_scanner_referrers(referer: str) -> None:
    assert classify_click(facts(headers={"referer": referer})).reasons == ("scanner_referrer",)


@pytest.mark.parametrize(
    "referer",
    ["https://mail.google.com/", "https://outlook.office.com/", "https://notmimecastprotect.com/"]
    + ["https://www.mimecast.com/", "not a url", ""],
)
def test_ordinary_referrers(referer: str) -> None:
    assert classify_click(facts(headers={"referer": referer})).reasons == ()


@pytest.mark.parametrize(
    "ip",
    ["40.92.1.1", "40.93.255.255", "40.107.0.1", "52.103.255.254", "104.47.127.1"]
    + ["2a01:111:f403:2c12::1", "::ffff:40.107.0.1", "67.231.150.3", "148.163.150.1"]
    + ["205.139.111.9", "209.222.85.4"],
)
def test_scanner_networks(ip: str) -> None:
    assert classify_click(facts(ip=ip)).reasons == ("scanner_ip",)


@pytest.mark.parametrize(
    "ip", ["40.94.0.1", "104.47.128.1", "52.104.0.1", HOME_IP, "2001:db8::1", "bogus", "", None]
)
def test_not_scanner_networks(ip: str | None) -> None:
    assert classify_click(facts(ip=ip)).reasons == ()


def test_operator_deny_lists_are_hard_signals() -> None:
    rules = BotRules(deny_user_agents=(r"MyMonitor/\d",), deny_networks=("203.0.113.0/24",))
    assert classify_click(facts(user_agent=CHROME + " MyMonitor/2"), rules).reasons == ("deny_ua",)
    verdict = classify_click(facts(ip="203.0.113.9"), rules)
    assert verdict.is_bot and verdict.reasons == ("deny_ip",)
    assert classify_click(facts(), rules).reasons == ()


def test_reasons_list_every_signal_in_order() -> None:
    verdict = classify_click(
        facts(
            method="HEAD",
            user_agent="curl/8.4.0",
            headers={"sec-purpose": "prefetch", "referer": "https://urldefense.com/v3/x"},
            ip=MICROSOFT_IP,
            honeypot=True,
            seconds_since_send=0.5,
            recent_message_links=9,
        )
    )
    expected = ("head", "prefetch", "crawler_ua", "honeypot")
    assert verdict.reasons == expected + SOFT_REASONS
    assert set(REASONS) == set(HARD_REASONS) | set(SOFT_REASONS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fast_click_seconds": -1},
        {"fast_click_seconds": float("nan")},
        {"burst_links": 1},
        {"deny_user_agents": ("(unclosed",)},
        {"deny_networks": ("not-a-network",)},
    ],
)
def test_bad_rules_are_refused_up_front(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BotRules(**kwargs)  # type: ignore[arg-type]


def test_scanner_network_file_is_valid_and_sorted() -> None:
    text = (files("tagtrail") / "data" / "scanner_networks.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == sorted(data) == ["barracuda", "microsoft", "mimecast", "proofpoint"]
    for provider, cidrs in data.items():
        assert cidrs == sorted(cidrs), provider
        for cidr in cidrs:
            ip_network(cidr)  # strict: no host bits
    assert SCANNER_NETWORKS["microsoft"] == tuple(data["microsoft"])


def test_network_table_prefers_the_most_specific_network() -> None:
    table = NetworkTable([("10.0.0.0/8", "wide"), ("10.1.0.0/16", "narrow")])
    assert table.label_of("10.1.2.3") == "narrow"
    assert table.label_of("10.2.0.1") == "wide"
    assert table.label_of("11.0.0.1") is None
    assert scanner_table().label_of("40.107.0.1") == "microsoft"
    assert NetworkTable([("::ffff:10.0.0.0/104", "mapped")]).label_of("10.9.9.9") == "mapped"


def test_crawler_verdicts_match_crawlerdetect() -> None:
    from crawlerdetect import CrawlerDetect

    detector = CrawlerDetect()
    samples = [*SCANNER_AGENTS.values(), *BROWSER_AGENTS.values()]
    samples += ["Mozilla/5.0", "MyUptimeChecker/1.0", "feedfetcher", "Mozilla/5.0 xbot", "robot"]
    samples += [
        "Mozilla/5.0 (compatible; YandexBot/3.0)",
        "Mozilla/5.0 (Windows NT 10.0) Edge/12.246",
    ]
    for ua in samples:
        expected = detector.is_crawler(ua)
        assert ("crawler_ua" in classify_click(facts(user_agent=ua)).reasons) is expected, ua


@pytest.mark.parametrize("filler", ["x", "a1", "-", " "])
def test_long_user_agents_stay_cheap(filler: str) -> None:
    import time

    ua = "Mozilla/5.0 " + filler * (4096 // len(filler)) + " bot"
    start = time.perf_counter()
    classify_click(facts(user_agent=ua))
    assert time.perf_counter() - start < 0.1  # crawlerdetect alone: ~350 ms on 2 KB of "x"
