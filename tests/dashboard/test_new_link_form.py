"""The dashboard's new-link form over HTTP (a real `tagtrail serve`): the `preset` choice fills
source and medium, on the live builder feedback and on the link it creates."""

from __future__ import annotations

import re

import httpx
from harness.live import LiveServer


def _signed_in(server: LiveServer) -> tuple[httpx.Client, str]:
    """A client with a dashboard session, and the new-link form's CSRF token."""
    client = httpx.Client(base_url=server.origin, timeout=30, follow_redirects=True)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    signed = client.post("/login", data={"csrf": token.group(1), "next": "/", "key": server.key})
    assert signed.status_code == 200, signed.text
    form = client.get("/ui/new")
    csrf = re.search(r'data-csrf="([^"]+)"', form.text)
    assert csrf is not None, form.text
    return client, csrf.group(1)


def test_the_form_offers_presets_and_applies_the_chosen_one(server: LiveServer) -> None:
    client, csrf = _signed_in(server)
    try:
        form = client.get("/ui/new").text
        assert '<select id="preset" name="preset">' in form
        assert '<option value="instasent">instasent: instasent / sms (SMS)</option>' in form
        live = client.post(
            "/ui/build.json",
            json={"url": "https://shop.example/sale", "preset": "instasent"},
            headers={"X-CSRF-Token": csrf},
        ).json()
        assert live["channel"] == "SMS"
        assert "utm_source=instasent&utm_medium=sms" in live["tracked_url"]
        made = client.post(
            "/ui/new",
            data={"csrf": csrf, "url": "https://shop.example/sale", "preset": "instasent",
                  "medium": "", "campaign": "Summer", "code": "sms-sale"},
        )  # fmt: skip
        assert made.status_code == 200 and made.url.path == "/ui/links/sms-sale", made.text
        unknown = client.post(
            "/ui/new", data={"csrf": csrf, "url": "https://shop.example/x", "preset": "nope"}
        )
        assert unknown.status_code == 400 and "unknown preset" in unknown.text
    finally:
        client.close()
    link = server.api("GET", "/api/links/sms-sale")
    assert link["utm"] == {"source": "instasent", "medium": "sms"} and link["channel"] == "SMS"
