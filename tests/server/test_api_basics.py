"""Auth, the error body, body size limits and the OpenAPI document, for every API route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tagtrail.service.keys import create_key, revoke_key
from tests.server.conftest import Server, now

#: Every API route, with a path that exists once `spring` (link and campaign) are made.
ROUTES = [
    ("POST", "/api/links"),
    ("POST", "/api/links/import"),
    ("GET", "/api/links"),
    ("GET", "/api/links/spring"),
    ("PATCH", "/api/links/spring"),
    ("POST", "/api/links/spring/disable"),
    ("POST", "/api/links/spring/enable"),
    ("DELETE", "/api/links/spring"),
    ("GET", "/api/links/spring/stats"),
    ("POST", "/api/links/spring/recipient-url"),
    ("GET", "/api/links/spring/qr.svg"),
    ("GET", "/api/links/spring/qr.png"),
    ("POST", "/api/campaigns"),
    ("GET", "/api/campaigns"),
    ("GET", "/api/campaigns/spring"),
    ("PATCH", "/api/campaigns/spring"),
    ("GET", "/api/campaigns/spring/stats"),
    ("GET", "/api/workspace"),
    ("PATCH", "/api/workspace"),
    ("POST", "/api/sends"),
    ("POST", "/api/sends/import"),
    ("POST", "/api/build"),
    ("POST", "/api/check"),
]


def _error(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list) and body["errors"]
    return dict(body)


def test_every_route_refuses_missing_wrong_revoked_and_write_keys(server: Server) -> None:
    made = server.post(
        "/api/links",
        json={
            "url": "https://example.com/",
            "code": "spring",
            "source": "nl",
            "medium": "email",
            "campaign": "spring",
        },
    )
    assert made.status_code == 201
    engine = server.client.app.state.engine  # type: ignore[attr-defined]
    workspace = 1
    revoked, revoked_raw = create_key(engine, workspace, "admin", "old", now=now())
    revoke_key(engine, revoked.id, now=now())
    _, write_raw = create_key(engine, workspace, "write", "collector", now=now())
    headers = {
        "none": {},
        "not bearer": {"Authorization": f"Basic {server.admin_key}"},
        "wrong": {"Authorization": "Bearer tt_admin_nope"},
        "revoked": {"Authorization": f"Bearer {revoked_raw}"},
        "write key": {"Authorization": f"Bearer {write_raw}"},
    }
    for method, path in ROUTES:
        for name, header in headers.items():
            answer = server.client.request(method, path, headers=header, json={})
            body = _error(answer, 401)
            assert answer.headers["www-authenticate"] == "Bearer", (method, path, name)
            assert body["status"] == 401
    assert server.get("/api/links/spring").status_code == 200


def test_validation_errors_have_the_error_body(server: Server) -> None:
    body = _error(server.post("/api/links", json={"code": "x"}), 422)
    assert any(e.startswith("url:") for e in body["errors"])  # type: ignore[union-attr]
    body = _error(
        server.post(
            "/api/links", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
    body = _error(server.patch("/api/workspace", json={"default_utm": {"colour": "red"}}), 422)
    assert "default_utm.colour" in body["errors"][0]  # type: ignore[index]
    _error(server.get("/api/links?limit=0"), 422)
    _error(server.get("/api/links/nope"), 404)
    _error(server.get("/api/links/nope/qr.svg"), 404)
    _error(server.get("/api/campaigns/nope"), 404)
    _error(server.get("/api/campaigns/nope/stats"), 404)
    _error(server.get("/api/nothing-here"), 404)


@pytest.mark.parametrize(
    ("path", "limit", "content_type"),
    [
        ("/api/links", 64 * 1024, "application/json"),
        ("/api/workspace", 64 * 1024, "application/json"),
        ("/api/build", 64 * 1024, "application/json"),
        ("/api/links/import", 1024 * 1024, "text/csv"),
        ("/api/sends", 2 * 1024 * 1024, "application/json"),
        ("/api/sends/import", 2 * 1024 * 1024, "text/csv"),
    ],
)
def test_bodies_over_the_limit_are_refused_with_413(
    lite: Server, path: str, limit: int, content_type: str
) -> None:
    method = "PATCH" if path == "/api/workspace" else "POST"
    big = b" " * (limit + 1)
    answer = lite.client.request(
        method, path, content=big, headers={**lite.auth(), "content-type": content_type}
    )
    body = _error(answer, 413)
    assert f"{limit:,}" in str(body["error"])


def test_a_chunked_body_over_the_limit_is_refused_too(lite: Server) -> None:
    def chunks() -> object:
        for _ in range(100):
            yield b" " * 1024

    answer = lite.client.post(
        "/api/build", content=chunks(), headers={**lite.auth(), "content-type": "application/json"}
    )
    _error(answer, 413)


def test_a_body_at_the_limit_is_read(lite: Server) -> None:
    text = '{"url": "https://example.com/", "source": "nl", "medium": "email"}'
    padded = text + " " * (64 * 1024 - len(text))
    answer = lite.post("/api/build", content=padded, headers={"content-type": "application/json"})
    assert answer.status_code == 200


def test_openapi_describes_every_route(lite: Server) -> None:
    document = lite.client.get("/openapi.json").json()
    for method, path in ROUTES:
        template = path.replace("/spring", "/{code}", 1) if path.startswith("/api/links/") else path
        template = template.replace("/campaigns/spring", "/campaigns/{name}")
        operation = document["paths"][template][method.lower()]
        assert operation["summary"], (method, path)
        assert len(operation["description"]) > 20, (method, path)
    csv_body = document["paths"]["/api/links/import"]["post"]["requestBody"]["content"]
    assert "text/csv" in csv_body
    assert lite.client.get("/docs").status_code == 200


def test_docs_api_md_has_every_route(lite: Server) -> None:
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    headings = set(re.findall(r"^### (GET|POST|PATCH|DELETE|PUT) (\S+)$", text, re.MULTILINE))
    document = lite.client.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method in operations
    }
    assert routes == headings
