"""/api/campaigns and /api/workspace: defaults, their precedence, and links following them."""

from __future__ import annotations

from tests.server.conftest import Server


def _location(server: Server, code: str) -> str:
    answer = server.client.get(f"/{code}", follow_redirects=False)
    assert answer.status_code == 302
    return str(answer.headers["location"])


def test_campaign_life(server: Server) -> None:
    made = server.post(
        "/api/campaigns", json={"name": "spring", "default_utm": {"medium": "email"}}
    )
    assert made.status_code == 201, made.text
    assert made.json()["default_utm"] == {"medium": "email"} and made.json()["links"] == 0
    assert server.post("/api/campaigns", json={"name": "spring"}).status_code == 409
    assert server.post("/api/campaigns", json={"name": "a/b"}).status_code == 422
    assert server.post(
        "/api/campaigns", json={"name": "x", "default_utm": {"id": "no way"}}
    ).json()["issues"]
    for code in ("s1", "s2"):
        body = {"url": "https://shop.example/", "code": code, "source": "nl", "campaign": "spring"}
        assert server.post("/api/links", json=body).status_code == 201
    server.post("/api/campaigns", json={"name": "x"})
    listed = server.get("/api/campaigns").json()
    assert listed["count"] == 2
    assert [(c["name"], c["links"]) for c in listed["data"]] == [("spring", 2), ("x", 0)]
    assert server.get("/api/campaigns/spring").json()["links"] == 2

    assert "utm_medium=email" in _location(server, "s1")
    changed = server.patch("/api/campaigns/spring", json={"default_utm": {"medium": "sms"}})
    assert changed.status_code == 200 and changed.json()["default_utm"] == {"medium": "sms"}
    assert "utm_medium=sms" in _location(server, "s1")  # the cache saw the change at once
    assert server.patch("/api/campaigns/nope", json={"default_utm": {}}).status_code == 404
    assert server.patch("/api/campaigns/spring", json={"colour": "red"}).status_code == 422

    stats = server.get("/api/campaigns/spring/stats").json()
    assert stats["campaign"] == "spring" and stats["total"] == 2
    assert stats["human"] + stats["bot"] == 2 and stats["by_day"][0]["total"] == 2


def test_utm_precedence_destination_link_campaign_workspace(server: Server) -> None:
    workspace = {"default_utm": {"source": "instasent", "medium": "sms", "content": "ws"}}
    assert server.patch("/api/workspace", json=workspace).status_code == 200
    server.post(
        "/api/campaigns", json={"name": "promo", "default_utm": {"content": "camp", "term": "c"}}
    )
    body = {
        "url": "https://shop.example/?utm_term=own",
        "code": "layers",
        "campaign": "promo",
        "id": "L1",
    }
    link = server.post("/api/links", json=body).json()
    assert link["tracked_url"] == server.get("/api/links/layers").json()["tracked_url"]
    url = link["tracked_url"]
    for piece in (
        "utm_source=instasent",  # workspace
        "utm_medium=sms",  # workspace
        "utm_content=camp",  # campaign over workspace
        "utm_term=own",  # the destination's own over the campaign
        "utm_campaign=promo",  # the campaign's name
        "utm_id=L1",  # the link's
    ):
        assert piece in url, (piece, url)
    server.patch("/api/links/layers", json={"content": "link"})
    assert "utm_content=link" in server.get("/api/links/layers").json()["tracked_url"]
    server.patch("/api/workspace", json={"default_utm": {"source": "intercom", "medium": "email"}})
    shown = server.get("/api/links/layers").json()["tracked_url"]
    assert "utm_source=intercom" in shown and "utm_medium=email" in shown
    assert _location(server, "layers") == shown


def test_workspace_settings(server: Server) -> None:
    shown = server.get("/api/workspace").json()
    assert shown["identify"] is True and shown["excluded_domains"] == []
    changed = server.patch(
        "/api/workspace",
        json={
            "identify": False,
            "excluded_domains": [" .Links.Example.COM. ", "links.example.com"],
        },
    ).json()
    assert changed["identify"] is False
    assert changed["excluded_domains"] == ["links.example.com"]
    assert server.patch("/api/workspace", json={}).json() == changed
    assert (
        server.patch("/api/workspace", json={"excluded_domains": ["not a domain"]}).status_code
        == 422
    )
    bad = server.patch("/api/workspace", json={"default_utm": {"id": "spaces are bad"}})
    assert bad.status_code == 422 and bad.json()["issues"][0]["code"] == "E_INVALID_ID"
    assert server.get("/api/workspace").json() == changed
