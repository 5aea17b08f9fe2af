"""Pieces of the redirect that need no server: referrer origins, forwarded queries, workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagtrail.server.redirect import _forwarded, referrer_origin
from tests.conftest import CliResult


@pytest.mark.parametrize(
    ("referer", "kept"),
    [
        ("https://mail.example.com/inbox?to=alice@example.com#msg", "https://mail.example.com"),
        ("http://Example.COM:8080/path", "http://example.com:8080"),
        ("android-app://com.google.android.gm/", "android-app://com.google.android.gm"),
        ("", ""),
        ("javascript:alert(1)", ""),
        ("https://[::1/", ""),
        ("not a url", ""),
    ],
)
def test_only_the_referrer_origin_is_kept(referer: str, kept: str) -> None:
    assert referrer_origin(referer) == kept


def test_forwarded_pieces_are_encoded_and_never_override_the_destination() -> None:
    target = "https://shop.example/p?utm_source=news&ref=a"
    pieces = _forwarded(r"a=1&ref=evil&x=\y&r=token&tt_hint=h&q=<b>&utm_source=x", target)
    assert pieces == ["a=1", "x=%5Cy", "q=%3Cb%3E"]


def test_serve_refuses_several_workers_with_writer_threads_on_sqlite(
    run_cli: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGTRAIL_WRITER", "thread")
    result: CliResult = run_cli(  # type: ignore[operator]
        "serve", "--workers", "2", "--data-dir", str(tmp_path), "--port", "1"
    )
    assert result.code == 1
    assert "several workers cannot share the embedded SQLite store" in result.err
    assert "TAGTRAIL_WRITER" in result.err
