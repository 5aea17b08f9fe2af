"""`tagtrail check` end to end, in-process, against a small redirecting server on loopback."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tagtrail.cli.check import check_and_render

UTM = "utm_source=intercom&utm_medium=email&utm_campaign=spring"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        query = f"?{parts.query}" if parts.query else ""
        if parts.path == "/keep":
            status, headers = 301, {"Location": f"/landing{query}"}
        elif parts.path == "/strip":
            status, headers = 302, {"Location": "/landing"}
        elif parts.path == "/landing":
            status, headers = 200, {"Content-Type": "text/plain"}
        else:
            status, headers = 404, {"Content-Type": "text/plain"}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_one_valid_url_exits_0_with_a_hop_table(run_cli: Callable[..., Any], site: str) -> None:
    result = run_cli("check", f"{site}/keep?{UTM}")
    assert result.code == 0, result.out + result.err
    assert "Checking" in result.out and "301" in result.out and "valid" in result.out
    assert "redirects" in result.out


def test_json_for_one_url(run_cli: Callable[..., Any], site: str) -> None:
    result = run_cli("check", f"{site}/strip?{UTM}", "--json")
    assert result.code == 1
    doc = result.json()
    assert list(doc) == ["url", "final_url", "valid", "hops", "checks"]
    assert doc["valid"] is False
    assert [h["status"] for h in doc["hops"]] == [302, 200]
    assert doc["hops"][1]["utm_lost"] == ["utm_source", "utm_medium", "utm_campaign"]
    for item in doc["checks"]:
        assert list(item) == ["check", "status", "message"]
    assert {c["check"] for c in doc["checks"]} == {
        "resolution",
        "redirects",
        "utm_in_final",
        "ssl",
        "downgrade",
        "loop",
        "max_hops",
        "fragment",
        "timing",
    }


def test_file_of_urls(run_cli: Callable[..., Any], site: str, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# campaign links\n\n{site}/keep?{UTM}\n  {site}/strip?{UTM}  \n")
    result = run_cli("check", "--file", str(listing), "--json", "--concurrency", "2")
    assert result.code == 1
    doc = result.json()
    assert doc["summary"] == {"checked": 2, "valid": 1, "invalid": 1}
    assert [r["valid"] for r in doc["reports"]] == [True, False]


def test_file_human_summary(run_cli: Callable[..., Any], site: str, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{site}/keep?{UTM}\n")
    result = run_cli("check", "--file", str(listing))
    assert result.code == 0
    assert "Checked 1 link(s): 1 valid, 0 invalid" in result.out


def test_build_csv_output(run_cli: Callable[..., Any], site: str, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "source", "status", "tracked_url"])
        writer.writerow(["x", "a", "ok", f"{site}/keep?{UTM}"])
        writer.writerow(["y", "", "error", ""])
        writer.writerow(["z", "b", "ok", f"{site}/keep?utm_source=b&utm_medium=sms"])
    result = run_cli("check", "--csv", str(out), "--json")
    assert result.code == 0, result.out
    assert result.json()["summary"] == {"checked": 2, "valid": 2, "invalid": 0}


def test_csv_without_tracked_url_column(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("url,source\nhttps://a.example/,x\n")
    result = run_cli("check", "--csv", str(bad), "--json")
    assert result.code == 1
    assert "no tracked_url column" in result.json()["error"]


def test_missing_file_is_an_error_not_a_traceback(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = run_cli("check", "--file", str(tmp_path / "nope.txt"))
    assert result.code == 1
    assert "cannot read" in result.err and "Traceback" not in result.err


def test_usage_errors_exit_2(run_cli: Callable[..., Any]) -> None:
    assert run_cli("check").code == 2
    assert run_cli("check", "http://a.example/", "--max-hops", "-1").code == 2
    result = run_cli("check", "--timeout", "0", "http://a.example/", "--json")
    assert result.code == 2
    assert result.json()["ok"] is False


@pytest.mark.parametrize(
    "url", ["not a url", "http://tagtrail-nowhere.invalid/", "http://127.0.0.1:1/", "ftp://x/"]
)
def test_bad_input_stays_valid_json(run_cli: Callable[..., Any], url: str) -> None:
    result = run_cli("check", url, "--json", "--timeout", "5")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["valid"] is False
    assert doc["hops"][0]["error"]
    assert "Traceback" not in result.err


def test_guard_flag_blocks_loopback(run_cli: Callable[..., Any], site: str) -> None:
    result = run_cli("check", f"{site}/keep?{UTM}", "--guard", "--json")
    assert result.code == 1
    assert result.json()["hops"][0]["error"].startswith("blocked: port")


def test_check_and_render_for_build(site: str, capsys: pytest.CaptureFixture[str]) -> None:
    reports, valid = check_and_render(
        [f"{site}/keep?{UTM}", f"{site}/keep?{UTM}&x=1"], as_json=True
    )
    assert valid and len(reports) == 2
    assert json.loads(capsys.readouterr().out)["summary"]["valid"] == 2


def test_build_check_follows_the_built_link(run_cli: Callable[..., Any], site: str) -> None:
    kept = run_cli(
        "build",
        "--url",
        f"{site}/keep",
        "--preset",
        "intercom",
        "--campaign",
        "spring",
        "--check",
        "--json",
    )
    assert kept.code == 0, kept.out
    document = kept.json()
    assert document["status"] == "warning"  # plain http on loopback
    assert document["check"]["valid"] is True
    assert document["check"]["url"] == document["tracked_url"]
    stripped = run_cli(
        "build", "--url", f"{site}/strip", "--preset", "intercom", "--campaign", "spring", "--check"
    )
    assert stripped.code == 1
    assert "utm_source" in stripped.out and "Traceback" not in stripped.err


def test_bulk_build_check(run_cli: Callable[..., Any], site: str, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(
        f"url,source,medium,campaign\n{site}/keep,a,email,x\n{site}/strip,a,email,x\n",
        encoding="utf-8",
    )
    result = run_cli("build", "--csv", str(source), "--out", str(out), "--check", "--json")
    assert result.code == 1
    assert result.json()["check"] == {"checked": 2, "valid": 1, "invalid": 1}
