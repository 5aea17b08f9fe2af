"""Bad input and broken networks give a failed hop or a clear error, never a traceback."""

from __future__ import annotations

import socket
import time

import pytest
from loopback import PyServer, free_port

from tagtrail.check import check_url
from tagtrail.errors import RedirectError


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "http://exa mple.com/",
        "http://[::1/",
        "http://:80/",
        "mailto:a@b.c",
        "http://example.com:99999/",
        "//example.com/x",
    ],
)
def test_malformed_url_is_a_failed_hop(url: str) -> None:
    report = check_url(url, timeout=2)
    assert not report.valid
    assert report.hops[0].status is None
    assert report.hops[0].error
    assert report.to_json()["checks"][0] == {
        "check": "resolution",
        "status": "fail",
        "message": f"hop 1 failed: {report.hops[0].error}",
    }


def test_dns_failure() -> None:
    report = check_url("http://tagtrail-does-not-exist.invalid/", timeout=5)
    assert "DNS lookup failed for tagtrail-does-not-exist.invalid" in (report.hops[0].error or "")
    assert not report.valid


def test_refused_connection() -> None:
    port = free_port()
    report = check_url(f"http://127.0.0.1:{port}/", timeout=2)
    assert report.hops[0].error == f"connection refused by 127.0.0.1:{port}"


def test_slow_answer_times_out(origin: PyServer) -> None:
    started = time.monotonic()
    report = check_url(origin.url("/slow?s=3"), timeout=0.5)
    assert time.monotonic() - started < 2
    assert "in time" in (report.hops[0].error or "") or "time limit" in (report.hops[0].error or "")
    assert not report.valid


def test_trickling_body_is_cut_by_the_total_timeout(origin: PyServer) -> None:
    started = time.monotonic()
    report = check_url(origin.url("/trickle"), timeout=1.0)
    assert time.monotonic() - started < 2.5
    assert "time limit" in (report.hops[0].error or "")


def test_huge_answer_is_read_to_64_kib_only(origin: PyServer) -> None:
    started = time.monotonic()
    report = check_url(origin.url("/huge"), timeout=5)
    assert time.monotonic() - started < 3
    assert report.hops[0].status == 200
    assert report.hops[0].bytes_read == 64 * 1024
    time.sleep(0.2)
    assert origin.sent < 100 * 1024 * 1024  # the checker hung up long before the end


def test_redirect_without_location(origin: PyServer) -> None:
    report = check_url(origin.url("/no-location"))
    assert report.check("resolution").message == "final answer 302 has no usable Location"


def test_a_timing_warning_for_a_slow_chain(origin: PyServer) -> None:
    report = check_url(origin.url("/slow?s=1.6"), timeout=5)
    assert report.check("timing").status == "warn"
    assert report.valid


def test_server_that_closes_without_answering() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        import threading

        def accept_and_close() -> None:
            conn, _ = listener.accept()
            conn.close()

        thread = threading.Thread(target=accept_and_close)
        thread.start()
        report = check_url(f"http://127.0.0.1:{port}/", timeout=3)
        thread.join()
    assert report.hops[0].error
    assert not report.valid


@pytest.mark.parametrize(("kwargs"), [{"max_hops": -1}, {"timeout": 0}])
def test_misuse_raises_redirect_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(RedirectError):
        check_url("http://127.0.0.1/", **kwargs)  # type: ignore[arg-type]
