"""/api/sends (JSON and CSV, all or nothing), /api/build and /api/check (behind the guard)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from tagtrail.store.schema import sends
from tests.server.conftest import Server


def _stored(server: Server) -> int:
    engine = server.client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sends)).scalar_one())


def test_sends_json_all_or_nothing(server: Server) -> None:
    good = [
        {
            "recipient": "ana@example.com",
            "campaign": "spring",
            "message": "m1",
            "sent_at": "2024-03-01T09:00:00+02:00",
            "channel": "email",
        },
        {"recipient": "user-42", "sent_at": "2024-03-01T09:00:00"},
    ]
    assert server.post("/api/sends", json=good).json() == {"stored": 2}
    assert _stored(server) == 2
    assert server.get("/api/campaigns/spring").status_code == 200
    bad = [*good, {"recipient": " ", "sent_at": "yesterday"}, {"sent_at": "2024-01-01"}]
    answer = server.post("/api/sends", json=bad)
    body = answer.json()
    assert answer.status_code == 422 and body["status"] == 422
    assert any(e.startswith("2.recipient") for e in body["errors"])
    assert any(e.startswith("2.sent_at") for e in body["errors"])
    assert any(e.startswith("3.recipient") for e in body["errors"])
    assert _stored(server) == 2
    assert server.post("/api/sends", json={"recipient": "x"}).status_code == 422


def test_sends_json_holds_at_most_10000(lite: Server) -> None:
    item = {"recipient": "u", "sent_at": "2024-01-01T00:00:00Z"}
    answer = lite.post("/api/sends", json=[item] * 10_001)
    assert answer.status_code == 422 and "10000" in answer.text
    assert _stored(lite) == 0


def test_sends_csv_all_or_nothing_with_line_numbers(server: Server) -> None:
    text = (
        "recipient,campaign,message,sent_at,channel\n"
        "ana@example.com,spring,m1,2024-03-01T09:00:00Z,email\n"
        "user-7,,m2,2024-03-01 10:00,sms\n"
    )
    csv_type = {"content-type": "text/csv"}
    assert server.post("/api/sends/import", content=text, headers=csv_type).json() == {"stored": 2}
    broken = text + (
        ",spring,m3,2024-03-01T09:00:00Z,email\n"
        "user-8,,,not a time,\n"
        "user-9,,,2024-01-01,sms,extra\n"
    )
    answer = server.post("/api/sends/import", content=broken, headers=csv_type)
    body = answer.json()
    assert answer.status_code == 422 and body["error"].startswith("3 bad row(s)")
    assert [e.split(":")[0] for e in body["errors"]] == ["line 4", "line 5", "line 6"]
    assert _stored(server) == 2
    no_header = server.post("/api/sends/import", content="who,when\na,b\n", headers=csv_type)
    assert no_header.status_code == 422 and "recipient" in no_header.json()["errors"][0]


def test_build_answers_like_the_cli(lite: Server) -> None:
    body = {"url": "https://example.com/pricing", "preset": "intercom", "campaign": "Onboarding"}
    answer = lite.post("/api/build", json=body)
    result = answer.json()
    assert answer.status_code == 200
    assert set(result) == {"status", "tracked_url", "channel", "issues"}
    assert result["tracked_url"] == (
        "https://example.com/pricing?utm_source=intercom&utm_medium=email&utm_campaign=onboarding"
    )
    assert result["channel"] == "Email"
    error = lite.post("/api/build", json={"url": "https://example.com/"})
    assert error.status_code == 200
    assert error.json()["status"] == "error" and error.json()["tracked_url"] is None
    assert (
        lite.post("/api/build", json={"url": "https://e.com/", "preset": "nope"}).status_code == 422
    )
    assert lite.post("/api/build", json={"url": "https://e.com/", "colour": "x"}).status_code == 422


class _Site(BaseHTTPRequestHandler):
    hits: list[str] = []
    busy = 0
    most = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        type(self).hits.append(self.path)
        if self.path.startswith("/slow"):
            self._slow()
        if self.path.startswith("/go"):
            self.send_response(302)
            self.send_header("Location", "/landing?" + self.path.partition("?")[2])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def _slow(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.busy += 1
            cls.most = max(cls.most, cls.busy)
        time.sleep(0.3)
        with cls.lock:
            cls.busy -= 1

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002
        return


@pytest.fixture
def site() -> Iterator[str]:
    _Site.hits, _Site.busy, _Site.most = [], 0, 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_check_follows_a_loopback_chain_when_private_is_allowed(
    open_server: Server, site: str
) -> None:
    url = f"{site}/go?utm_source=nl&utm_medium=email"
    answer = open_server.post("/api/check", json={"url": url, "max_hops": 3, "timeout": 5})
    report = answer.json()
    assert answer.status_code == 200, answer.text
    assert [h["status"] for h in report["hops"]] == [302, 200]
    assert report["final_url"].endswith("/landing?utm_source=nl&utm_medium=email")
    assert _Site.hits == [
        "/go?utm_source=nl&utm_medium=email",
        "/landing?utm_source=nl&utm_medium=email",
    ]


def test_check_blocks_loopback_by_default_without_reaching_it(lite: Server, site: str) -> None:
    for url in (
        f"{site}/go?utm_source=nl",
        "http://127.0.0.1/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
    ):
        answer = lite.post("/api/check", json={"url": url})
        report = answer.json()
        assert answer.status_code == 200
        assert report["valid"] is False
        assert len(report["hops"]) == 1 and report["hops"][0]["status"] is None
        assert "blocked" in report["hops"][0]["error"]
    assert _Site.hits == []


def test_check_bounds_hops_and_timeout(lite: Server) -> None:
    for extra in ({"max_hops": 11}, {"max_hops": -1}, {"timeout": 0}, {"timeout": 10.5}):
        answer = lite.post("/api/check", json={"url": "https://example.com/", **extra})
        assert answer.status_code == 422, extra


def test_at_most_four_checks_run_at_once(open_server: Server, site: str) -> None:
    def check(n: int) -> int:
        body = {"url": f"{site}/slow/{n}", "max_hops": 0, "timeout": 5}
        return int(open_server.post("/api/check", json=body).status_code)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(check, range(8))) == [200] * 8
    assert len(_Site.hits) == 8
    assert _Site.most == 4
