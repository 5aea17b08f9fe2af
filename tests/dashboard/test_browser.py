"""The dashboard in a real browser: sign in, create a link, follow it, see the click, send a
conversion and see it in the attribution chart; a screenshot of every page in test-artifacts/."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from harness.live import LiveServer

from tests.dashboard.conftest import BROWSER_UA

DUMMY = "<!doctype html><title>Spring sale</title><h1>Spring sale</h1>"


def _eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def _page(browser: Any, **options: Any) -> Any:
    context = browser.new_context(user_agent=BROWSER_UA, **options)
    context.route(
        lambda url: urlsplit(url).hostname == "example.com",
        lambda route: route.fulfill(status=200, content_type="text/html", body=DUMMY),
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sign_in(page: Any, server: LiveServer) -> None:
    page.goto(server.origin + "/")
    assert "/login" in page.url
    page.fill("#key", server.key)
    page.click("button[type=submit]")
    page.wait_for_url(server.origin + "/")


def _no_traceback(page: Any) -> None:
    body = page.content()
    assert "Traceback" not in body and 'File "' not in body


def test_the_whole_flow(browser: Any, server: LiveServer, artifacts: Path) -> None:
    server.api("POST", "/api/goals", json={"event": "Order Completed", "revenue": "revenue"})
    page = _page(browser)
    page.goto(server.origin + "/login")
    page.screenshot(path=str(artifacts / "login.png"), full_page=True)
    _sign_in(page, server)
    cookie = next(c for c in page.context.cookies() if c["name"] == "tt_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # create a link, with live builder feedback
    page.goto(server.origin + "/ui/new")
    page.fill("#url", "https://example.com/spring")
    page.fill("#source", "newsletter")
    page.fill("#medium", "email")
    page.fill("#campaign", "spring")
    page.wait_for_function("document.getElementById('build-channel').textContent === 'Email'")
    assert "utm_source=newsletter" in page.text_content("#build-url")
    # the live redirect check runs behind the SSRF guard: a loopback target is refused unmade
    page.fill("#url", server.origin + "/health")
    page.click("#check-button")
    page.wait_for_function("document.getElementById('check-result').textContent.length > 10")
    assert "problems found" in (page.text_content("#check-result") or "")
    page.fill("#url", "https://example.com/spring")
    page.screenshot(path=str(artifacts / "new-link.png"), full_page=True)
    page.click("form#new-link button[type=submit]")
    page.wait_for_url("**/ui/links/*")
    code = page.url.rsplit("/", 1)[1]
    assert page.text_content("#destination") == "https://example.com/spring"
    assert page.locator(".qr svg").count() == 1

    # follow the link as alice (a recipient link) in the browser: the destination is a dummy
    url = server.recipient_url(code, "alice")
    visitor = _page(browser)
    landed: list[str] = []

    def follow(route: Any) -> None:  # the real 302, then the dummy destination (no network)
        answer = route.fetch(max_redirects=0)
        landed.append(answer.headers["location"])
        route.fulfill(status=200, content_type="text/html", body=DUMMY)

    visitor.route(lambda u: u.startswith(f"{server.origin}/{code}?"), follow)
    visitor.goto(url)
    assert visitor.title() == "Spring sale"
    assert landed[0].startswith("https://example.com/spring?utm_source=newsletter")
    visitor.context.close()

    def counted() -> bool:
        page.reload()
        return page.text_content("#link-human") == "1"

    _eventually(counted)
    assert "alice" in (page.text_content("#recipients") or "")
    page.screenshot(path=str(artifacts / "link.png"), full_page=True)

    # a conversion of alice's, through the tracking API
    event = {"userId": "alice", "event": "Order Completed", "properties": {"revenue": 42}}
    with httpx.Client(base_url=server.origin, headers=server.headers, timeout=10) as client:
        assert client.post("/v1/track", json=event).status_code == 200

    def attributed() -> bool:
        page.goto(server.origin + "/ui/attribution")
        return page.locator("#attribution-chart svg").count() == 1

    _eventually(attributed)
    chart = page.text_content("#attribution-chart") or ""
    assert "Email" in chart and "last_non_direct" in chart
    assert page.locator("#attribution-chart svg[role=img] title").count() >= 1
    page.screenshot(path=str(artifacts / "attribution.png"), full_page=True)

    page.goto(server.origin + "/")
    assert page.text_content("#human-clicks") == "1"
    assert page.text_content("#conversions") == "1"
    assert page.text_content("#revenue") == "42"
    page.screenshot(path=str(artifacts / "overview.png"), full_page=True)

    page.goto(server.origin + "/ui/campaigns")
    row = page.locator(f"#links tr[data-code='{code}']")
    assert row.locator(".clicks").text_content() == "1"
    page.screenshot(path=str(artifacts / "campaigns.png"), full_page=True)

    page.goto(server.origin + "/ui/channels")
    assert "Email" in (page.text_content("#channels") or "")
    page.screenshot(path=str(artifacts / "channels.png"), full_page=True)

    page.goto(server.origin + "/ui/profile?user=alice")
    assert page.text_content("#first-channel") == "Email"
    assert "conversion" in (page.text_content("#timeline") or "")
    page.screenshot(path=str(artifacts / "profile.png"), full_page=True)

    # a phone-sized screen
    phone = _page(browser, viewport={"width": 390, "height": 844})
    _sign_in(phone, server)
    phone.screenshot(path=str(artifacts / "overview-phone.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone.context.close()

    page.click(".signout button")
    page.wait_for_url("**/login")
    page.goto(server.origin + "/ui/campaigns")
    assert "/login" in page.url
    page.context.close()


def test_bad_input_gives_inline_messages(browser: Any, server: LiveServer, artifacts: Path) -> None:
    page = _page(browser)
    page.goto(server.origin + "/login")
    page.fill("#key", "tt_admin_wrong")
    page.click("button[type=submit]")
    assert "Sign-in refused" in page.text_content(".error")
    _no_traceback(page)
    _sign_in(page, server)

    page.goto(server.origin + "/ui/new")
    page.evaluate("document.getElementById('new-link').noValidate = true")
    page.fill("#url", "not a url")
    page.click("form#new-link button[type=submit]")
    assert page.locator(".error").count() >= 1
    assert page.input_value("#url") == "not a url"  # kept for correction
    _no_traceback(page)
    page.screenshot(path=str(artifacts / "new-link-error.png"), full_page=True)

    page.evaluate("document.getElementById('new-link').noValidate = true")
    page.fill("#url", "https://example.com/a")
    page.fill("#code", "bad code!")
    page.click("form#new-link button[type=submit]")
    # the server's one message (the live builder may list its own issues beside it, later)
    assert page.locator("p.error").count() == 1
    _no_traceback(page)

    for path in ("/?from=yesterday", "/ui/links/no-such-code", "/ui/profile?user=nobody",
                 "/ui/attribution?from=2024-05-02&to=2024-05-01"):  # fmt: skip
        page.goto(server.origin + path)
        assert page.locator("p.error").count() == 1, path
        _no_traceback(page)
    page.context.close()
