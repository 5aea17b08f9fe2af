"""Pieces of the redirect that need no server: referrer origins, forwarded queries, the click
clock, workers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagtrail.server.redirect import ClickClock, _forwarded, referrer_origin
from tagtrail.service.batch import store_time
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


def test_the_click_clock_gives_the_time_now_in_both_forms() -> None:
    clock = ClickClock()
    for _ in range(3):
        before = datetime.now(UTC).replace(tzinfo=None)
        second, micro = clock.now()
        after = datetime.now(UTC).replace(tzinfo=None)
        now = second.at(micro)
        assert before - timedelta(milliseconds=1) <= now <= after + timedelta(milliseconds=1)
        assert second.text(micro) == store_time(now)
        assert second.day == now.date()
        time.sleep(0.6)  # the next pass crosses into another second


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
