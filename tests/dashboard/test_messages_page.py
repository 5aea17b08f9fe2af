"""The Messages pages in Chromium: paste a body, see links found and skipped, upload recipients
and download their bodies, click a recipient's link, see the click on the message page and in
the click map (a sandboxed iframe that loads nothing remote)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from harness.live import LiveServer

from tests.dashboard.conftest import BROWSER_UA
from tests.dashboard.test_browser import _eventually, _no_traceback, _page, _sign_in

EMAIL = """<table><tr><td>
<img src="https://img.example/logo.png" alt="logo">
<a href="https://example.com/spring?a=1&amp;b=2">Shop the sale</a>
<a href="https://example.com/new">New in</a>
<a href="{{unsubscribe_url}}">Unsubscribe</a>
</td></tr></table>"""


def test_messages_page(browser: Any, server: LiveServer, artifacts: Path, tmp_path: Path) -> None:
    server.api(
        "POST",
        "/api/links",
        json={
            "url": "https://example.com/",
            "campaign": "spring",
            "source": "x",
            "medium": "email",
        },
    )
    page = _page(browser)
    remote: list[str] = []
    page.on("request", lambda r: remote.append(r.url) if "img.example" in r.url else None)
    _sign_in(page, server)
    page.click("text=Messages")
    page.wait_for_url("**/ui/messages")
    body_file = tmp_path / "spring.html"
    body_file.write_text(EMAIL)
    page.set_input_files("#body-file", str(body_file))  # an upload fills the text area
    page.wait_for_function("document.getElementById('body').value.includes('Shop the sale')")
    page.select_option("#campaign", "spring")
    page.select_option("#preset", "intercom")
    page.screenshot(path=str(artifacts / "messages.png"), full_page=True)
    page.click("form#new-message button[type=submit]")
    page.wait_for_url("**/ui/messages/*")
    _no_traceback(page)
    message = page.url.rsplit("/", 1)[1]
    links = page.locator("#links tbody tr")
    assert links.count() == 2
    assert "Shop the sale" in links.nth(0).inner_text()
    assert "placeholder" in page.inner_text("#skipped")

    recipients = tmp_path / "people.csv"
    recipients.write_text("recipient,name\nann@mail.example,Ann\nbob@mail.example,Bob\n")
    page.set_input_files("#recipients-file", str(recipients))
    with page.expect_download() as download_info:
        page.click("#download-jsonl")
    saved = tmp_path / "bodies.jsonl"
    download_info.value.save_as(str(saved))
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [line["recipient"] for line in lines] == ["ann@mail.example", "bob@mail.example"]
    with page.expect_download() as download_info:
        page.click("#download-csv")
    merged = tmp_path / "merge.csv"
    download_info.value.save_as(str(merged))
    assert merged.read_text().splitlines()[0] == "recipient,held_out,link_1,link_2"

    # Ann clicks her first link, as a person would.
    first = lines[0]["body"].split('href="')[1].split('"')[0]
    assert first.startswith(server.origin + "/") and len(first.rsplit("/", 1)[1]) == 10
    answer = httpx.get(first, headers={"user-agent": BROWSER_UA}, follow_redirects=False)
    assert answer.status_code == 302 and "utm_content=shop-the-sale" in answer.headers["location"]

    def clicked() -> bool:
        page.goto(f"{server.origin}/ui/messages/{message}")
        return page.inner_text("#clicked") == "1"

    _eventually(clicked)
    assert page.inner_text("#sent") == "2"  # recipients sent to (rendered twice: 4 sends)
    assert "ann@mail.example" in page.inner_text("#clickers")
    frame = page.frame_locator("#click-map")
    assert frame.locator(".tt-clicks").first.inner_text() == "1"
    assert page.get_attribute("#click-map", "sandbox") == ""
    page.screenshot(path=str(artifacts / "message.png"), full_page=True)
    assert remote == []  # the click map loaded no remote image
