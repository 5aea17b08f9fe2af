"""Dashboard sign-in on a live server: non-ASCII CSRF tokens, signing out, body caps and the
limit on failed sign-ins and API keys."""

from __future__ import annotations

import contextlib
import re
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from harness.live import LiveServer, start_server

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_NON_ASCII = "日本"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(data_dir=tmp_path_factory.mktemp("signin") / "data") as live:
        yield live


def _csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


@contextlib.contextmanager
def _signed_in(server: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    """A client with a dashboard session, and the session's CSRF token."""
    with httpx.Client(base_url=server.origin, timeout=30) as client:
        token = _csrf(client.get("/login"))
        data = {"csrf": token, "key": server.key, "next": "/ui/new"}
        answer = client.post("/login", data=data)
        assert answer.status_code == 303, answer.text
        yield client, _csrf(client.get("/ui/new"))


def test_non_ascii_login_token_is_a_403_and_the_connection_lives(server: LiveServer) -> None:
    with httpx.Client(base_url=server.origin, timeout=30) as client:
        client.get("/login")
        answer = client.post("/login", data={"csrf": _NON_ASCII, "key": server.key})
        assert answer.status_code == 403
        assert "expired" in answer.text
        assert client.get("/login").status_code == 200


def test_non_ascii_csrf_header_and_form_are_403(server: LiveServer) -> None:
    with _signed_in(server) as (client, _token):
        answer = client.post(
            "/ui/build.json",
            content=b'{"url": "https://shop.example/"}',
            headers={"x-csrf-token": _NON_ASCII.encode(), "content-type": "application/json"},
        )
        assert answer.status_code == 403
        assert answer.json()["error"] == "bad CSRF token"
        form = client.post("/ui/new", data={"csrf": _NON_ASCII, "url": "https://shop.example/"})
        assert form.status_code == 403
        assert client.get("/ui/new").status_code == 200


def test_signing_out_ends_the_session(server: LiveServer) -> None:
    with _signed_in(server) as (client, token):
        cookie = client.cookies["tt_session"]
        assert client.get("/", follow_redirects=False).status_code == 200
        out = client.post("/logout", data={"csrf": token}, follow_redirects=False)
        assert out.status_code == 303
    with httpx.Client(base_url=server.origin, timeout=30) as replay:
        replay.cookies.set("tt_session", cookie)
        again = replay.get("/", follow_redirects=False)
        assert again.status_code == 303
        assert again.headers["location"].startswith("/login")
        refused = replay.post(
            "/ui/build.json", json={"url": "https://shop.example/"}, headers={"x-csrf-token": token}
        )
        assert refused.status_code == 401


def test_another_session_outlives_a_sign_out(server: LiveServer) -> None:
    with _signed_in(server) as (first, first_token), _signed_in(server) as (second, _):
        first.post("/logout", data={"csrf": first_token})
        assert second.get("/", follow_redirects=False).status_code == 200


def _chunked_upload(
    server: LiveServer, path: str, total: int, extra: str = ""
) -> tuple[int, bytes]:
    """POST `total` bytes to `path` in 64 KiB chunks, stopping once the server answers; the
    bytes sent and the answer's first bytes."""
    chunk = b"a" * 65536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{extra}\r\n"
    ).encode()
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(30)
        answer = sock.recv(4096)
    return sent, answer


@pytest.mark.parametrize("path", ["/login", "/logout", "/ui/new", "/ui/build.json"])
def test_oversized_chunked_bodies_are_refused_unread(server: LiveServer, path: str) -> None:
    total = 64 * 1024 * 1024
    with _signed_in(server) as (client, token):
        cookie = client.cookies["tt_session"]
        extra = f"Cookie: tt_session={cookie}\r\nX-CSRF-Token: {token}\r\n"
        sent, answer = _chunked_upload(server, path, total, extra)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < total // 4, f"{sent:,} bytes sent before the answer"


@pytest.fixture
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TAGTRAIL_AUTH_FAILURE_LIMIT": "3", "TAGTRAIL_AUTH_FAILURE_WINDOW_SECONDS": "2"}
    with start_server(data_dir=tmp_path_factory.mktemp("strict") / "data", env=env) as live:
        yield live


def test_failed_sign_ins_are_limited_per_address(strict: LiveServer) -> None:
    with httpx.Client(base_url=strict.origin, timeout=30) as client:
        token = _csrf(client.get("/login"))
        statuses = []
        for _ in range(5):
            answer = client.post("/login", data={"csrf": token, "key": "tt_admin_wrong"})
            statuses.append(answer.status_code)
            token = _csrf(answer)
        assert statuses == [401, 401, 401, 429, 429]
        assert 1 <= int(answer.headers["retry-after"]) <= 2
        good = client.post("/login", data={"csrf": token, "key": strict.key})
        assert good.status_code == 429  # the address waits, whatever key it sends
        time.sleep(2.1)
        token = _csrf(client.get("/login"))
        assert client.post("/login", data={"csrf": token, "key": strict.key}).status_code == 303


def test_wrong_api_keys_are_limited_per_address(strict: LiveServer) -> None:
    with httpx.Client(base_url=strict.origin, timeout=30) as client:
        statuses = [
            client.get("/api/links", headers={"Authorization": "Bearer tt_admin_x"}).status_code
            for _ in range(5)
        ]
        assert statuses == [401, 401, 401, 429, 429]
        limited = client.get("/api/links", headers=strict.headers)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["status"] == 429
        time.sleep(2.1)
        assert client.get("/api/links", headers=strict.headers).status_code == 200


def test_the_new_link_form_encodes_a_non_ascii_destination(server: LiveServer) -> None:
    with _signed_in(server) as (client, token):
        form = {"csrf": token, "url": "https://shop.example/?q=日本", "code": "formiri"}
        made = client.post("/ui/new", data={**form, "source": "nl", "medium": "email"})
        assert made.status_code == 303, made.text
        answer = client.get("/formiri", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("https://shop.example/?q=%E6%97%A5%E6%9C%AC&")
