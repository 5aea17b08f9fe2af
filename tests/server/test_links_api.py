"""/api/links: the whole life of a link, bulk import, QR codes and excluded domains."""

from __future__ import annotations

import io
import re

import segno

from tests.server.conftest import ORIGIN, Server

SPRING = {
    "url": "https://shop.example/spring",
    "source": "newsletter",
    "medium": "email",
    "campaign": "spring-sale",
}


def test_create_show_list_update_disable_enable_delete(server: Server) -> None:
    made = server.post("/api/links", json={**SPRING, "code": "spring", "tags": ["promo"]})
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["tracked"] is True
    assert link["short_url"] == f"{ORIGIN}/spring"
    assert link["tracked_url"] == (
        "https://shop.example/spring?utm_source=newsletter&utm_medium=email"
        "&utm_campaign=spring-sale"
    )
    assert server.get("/api/links/spring").json()["tags"] == ["promo"]
    listed = server.get("/api/links", params={"tag": "promo"}).json()
    assert listed["count"] == 1 and listed["data"][0]["code"] == "spring"
    assert server.get("/api/links", params={"campaign": "other"}).json()["count"] == 0

    changed = server.patch("/api/links/spring", json={"content": "hero"}).json()
    assert "utm_content=hero" in changed["tracked_url"]

    assert server.post("/api/links/spring/disable").status_code == 204
    assert server.client.get("/spring", follow_redirects=False).status_code == 410
    assert server.post("/api/links/spring/enable").status_code == 204
    answer = server.client.get("/spring", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == changed["tracked_url"]

    stats = server.get("/api/links/spring/stats").json()
    assert stats["total"] == 1
    url = server.post("/api/links/spring/recipient-url", json={"recipient": "ana@example.com"})
    assert url.json()["url"].startswith(f"{ORIGIN}/spring?r=")

    assert server.delete("/api/links/spring").status_code == 204
    assert server.get("/api/links/spring").status_code == 404
    assert server.delete("/api/links/spring").status_code == 404


def test_a_taken_code_is_409_and_a_bad_link_is_422_with_issues(server: Server) -> None:
    assert server.post("/api/links", json={**SPRING, "code": "dup"}).status_code == 201
    taken = server.post("/api/links", json={**SPRING, "code": "dup"})
    assert taken.status_code == 409 and taken.json()["status"] == 409
    bad = server.post("/api/links", json={"url": "ftp://shop.example/"})
    body = bad.json()
    assert bad.status_code == 422
    assert {i["code"] for i in body["issues"]} >= {"E_SCHEME_UNSUPPORTED", "E_MISSING_SOURCE"}
    for code in ("api", "ui", "UI", "t.js"):  # the server's own paths, any case
        reserved = server.post("/api/links", json={**SPRING, "code": code})
        assert reserved.status_code == 422, code


CSV = (
    "URL,code,utm_campaign,source,medium,content,term,id,tags,notes\n"
    "https://shop.example/a,imp-a,spring-sale,newsletter,email,hero,,,promo|q2,first\n"
    "ftp://shop.example/b,,,newsletter,email,,,,,broken scheme\n"
    "https://shop.example/c,imp-a,,newsletter,email,,,,,taken code\n"
    "\n"
    "https://shop.example/d,,,newsletter,email,,shoes,A.1,,ok\n"
    "https://shop.example/e,,,newsletter,email,,,,,too,many\n"
)


def test_import_creates_good_rows_and_reports_bad_ones_by_line(server: Server) -> None:
    answer = server.post("/api/links/import", content=CSV, headers={"content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [c["destination"] for c in body["created"]] == [
        "https://shop.example/a",
        "https://shop.example/d",
    ]
    first, fourth = body["created"]
    assert first["code"] == "imp-a" and first["tags"] == ["promo", "q2"]
    assert first["campaign"] == "spring-sale"
    assert "utm_content=hero" in first["tracked_url"]
    assert "utm_term=shoes" in fourth["tracked_url"] and "utm_id=A.1" in fourth["tracked_url"]
    assert [(e["line"], bool(e["issues"])) for e in body["errors"]] == [
        (3, True),
        (4, False),
        (7, False),
    ]
    assert "taken" in body["errors"][1]["error"]
    assert body["ignored_columns"] == ["notes"]
    assert server.get("/api/links").json()["count"] == 2


def test_import_refuses_a_csv_without_url_or_not_utf8(server: Server) -> None:
    csv_type = {"content-type": "text/csv"}
    no_url = server.post("/api/links/import", content="code,source\nx,y\n", headers=csv_type)
    assert no_url.status_code == 422 and "url" in no_url.json()["error"]
    latin = server.post("/api/links/import", content="url\nhttps://é.example/\n".encode("latin-1"))
    assert latin.status_code == 422
    empty = server.post("/api/links/import", content=b"", headers=csv_type)
    assert empty.status_code == 422


def test_qr_codes_encode_the_short_url(lite: Server) -> None:
    short = lite.post("/api/links", json={**SPRING, "code": "qr"}).json()["short_url"]
    symbol = segno.make_qr(short)
    for kind, scale in (("svg", 10), ("png", 3), ("png", 40)):
        answer = lite.get(f"/api/links/qr/qr.{kind}", params={"scale": scale})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=3600"
        expected = io.BytesIO()
        symbol.save(expected, kind=kind, scale=scale, border=4)
        assert answer.content == expected.getvalue()
    png = lite.get("/api/links/qr/qr.png").content
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = lite.get("/api/links/qr/qr.svg", params={"scale": 2})
    assert svg.headers["content-type"] == "image/svg+xml"
    side = (symbol.symbol_size(scale=1, border=4))[0] * 2
    assert re.search(rf'width="{side}" height="{side}"', svg.text)
    for scale in (0, 41):
        assert lite.get("/api/links/qr/qr.png", params={"scale": scale}).status_code == 422


def test_excluded_domains_get_the_tracked_destination_not_a_short_link(server: Server) -> None:
    settings = {
        "default_utm": {"source": "instasent", "medium": "sms"},
        "excluded_domains": ["App.Example.org", "*.deep.example"],
    }
    assert server.patch("/api/workspace", json=settings).status_code == 200
    for url in ("https://app.example.org/open", "https://x.app.example.org/p?a=1"):
        answer = server.post("/api/links", json={"url": url, "campaign": "spring"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["tracked"] is False and body["code"] is None
        assert body["short_url"] == body["tracked_url"]
        assert body["short_url"].startswith(url)
        assert "utm_source=instasent&utm_medium=sms&utm_campaign=spring" in body["short_url"]
    assert (
        server.post("/api/links", json={"url": "https://deep.example/"}).json()["tracked"] is False
    )
    tracked = server.post("/api/links", json={"url": "https://notapp.example.org/"})
    assert tracked.status_code == 201 and tracked.json()["tracked"] is True
    assert server.get("/api/links").json()["count"] == 1
    rows = "url,source\nhttps://app.example.org/x,push\nhttps://shop.example/y,\n"
    body = server.post("/api/links/import", content=rows).json()
    assert [c["tracked"] for c in body["created"]] == [False, True]
    assert "utm_source=push&utm_medium=sms" in body["created"][0]["short_url"]
    moved = server.patch(
        f"/api/links/{tracked.json()['code']}", json={"url": "https://app.example.org/"}
    )
    assert moved.status_code == 422 and "excluded" in moved.json()["error"]
    bad = server.post("/api/links", json={"url": "https://app.example.org/", "id": "bad id!"})
    assert bad.status_code == 422 and bad.json()["issues"]


def test_a_second_link_to_the_same_tracked_url_is_made_with_a_warning(server: Server) -> None:
    first = server.post("/api/links", json={**SPRING, "code": "twin-a"})
    assert first.status_code == 201 and "warnings" not in first.json()
    second = server.post("/api/links", json={**SPRING, "code": "twin-b"})
    assert second.status_code == 201, second.text
    (warning,) = second.json()["warnings"]
    assert warning["code"] == "W_DUPLICATE_LINK" and warning["links"] == ["twin-a"]
    assert "twin-a" in warning["message"] and warning["hint"]
    other = server.post("/api/links", json={**SPRING, "content": "footer", "code": "twin-c"})
    assert other.status_code == 201 and "warnings" not in other.json()
    assert "warnings" not in server.get("/api/links/twin-b").json()


def test_an_expiry_already_past_is_made_with_a_warning(server: Server) -> None:
    made = server.post(
        "/api/links",
        json={"url": "https://shop.example/gone", "source": "nl", "medium": "email",
              "expires_at": "2020-01-01T00:00:00+02:00"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    (warning,) = made.json()["warnings"]
    assert warning["code"] == "W_EXPIRES_IN_PAST" and "2019-12-31T22:00:00" in warning["message"]
    assert "links" not in warning
    code = made.json()["code"]
    assert server.client.get(f"/{code}", follow_redirects=False).status_code == 410


def test_an_imported_duplicate_carries_the_warning(server: Server) -> None:
    body = "url,code,source,medium\nhttps://shop.example/imp,imp-1,nl,email\n"
    body += "https://shop.example/imp,imp-2,nl,email\n"
    answer = server.post("/api/links/import", content=body, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["created"]
    assert "warnings" not in first and first["tracked"] is True and "channel" in first
    assert [w["code"] for w in second["warnings"]] == ["W_DUPLICATE_LINK"]
    assert second["warnings"][0]["links"] == ["imp-1"]
