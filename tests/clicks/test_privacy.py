"""Privacy defaults: truncated IPs, daily visitor hashes, keyed email hashes (research §2.2, I5)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tagtrail.clicks import anonymize_ip, daily_salt, email_key, visitor_hash
from tagtrail.clicks.privacy import phone_key, phone_number, redact_url

SECRET = b"test-secret-0123456789"
DAY = date(2026, 5, 1)
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("203.0.113.0", "203.0.113.0"),
        (" 198.51.100.255 ", "198.51.100.0"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::"),
        ("2001:0db8:1234:ffff:ffff:ffff:ffff:ffff", "2001:db8:1234::"),
        ("[2001:db8:abcd:12::7]", "2001:db8:abcd::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:203.0.113.77", "203.0.113.0"),
        ("::ffff:cb00:714d", "203.0.113.0"),
        ("::1", "::"),
    ],
)
def test_anonymize_ip(ip: str, expected: str) -> None:
    assert anonymize_ip(ip) == expected


@pytest.mark.parametrize(
    "ip",
    ["", " ", "unknown", "203.0.113", "203.0.113.256", "1.2.3.4/24", "2001:db8::g", "::ffff:1.2.3"]
    + ["203.0.113.77:443", "a" * 5000, "\x00", "１２.0.0.1"],
)
def test_anonymize_ip_refuses_non_addresses(ip: str) -> None:
    assert anonymize_ip(ip) is None


def test_anonymize_ip_non_string_is_none() -> None:
    assert anonymize_ip(None) is None  # type: ignore[arg-type]


def test_daily_salt_is_hmac_of_the_iso_day_and_changes_daily() -> None:
    import hmac

    expected = hmac.new(SECRET, b"visitor-salt:2026-05-01", hashlib.sha256).digest()
    assert daily_salt(SECRET, DAY) == expected
    assert daily_salt(SECRET, DAY + timedelta(days=1)) != expected
    assert daily_salt(b"other", DAY) != expected
    # A datetime is reduced to its UTC day.
    late = datetime(2026, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=-3)))
    assert daily_salt(SECRET, late) == daily_salt(SECRET, date(2026, 5, 2))
    assert daily_salt(SECRET, datetime(2026, 5, 1, 12, tzinfo=UTC)) == expected


def test_visitor_hash_is_stable_within_a_day_and_differs_across_days_and_scopes() -> None:
    first = visitor_hash(SECRET, DAY, "203.0.113.77", UA, "ws1")
    assert first == visitor_hash(SECRET, DAY, "203.0.113.77", UA, "ws1")
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != visitor_hash(SECRET, DAY + timedelta(days=1), "203.0.113.77", UA, "ws1")
    assert first != visitor_hash(SECRET, DAY, "203.0.113.77", UA, "ws2")
    assert first != visitor_hash(SECRET, DAY, "203.0.113.78", UA, "ws1")
    assert first != visitor_hash(SECRET, DAY, "203.0.113.77", UA + " x", "ws1")
    assert first != visitor_hash(b"other", DAY, "203.0.113.77", UA, "ws1")
    # Canonical address: the IPv4-mapped form is the same visitor.
    assert first == visitor_hash(SECRET, DAY, "::ffff:203.0.113.77", UA, "ws1")
    # Fields cannot run together.
    assert visitor_hash(SECRET, DAY, "x", "ab", "s") != visitor_hash(SECRET, DAY, "xa", "b", "s")


def test_visitor_hash_contains_neither_ip_nor_user_agent() -> None:
    digest = visitor_hash(SECRET, DAY, "203.0.113.77", UA, "ws1")
    assert "203" not in digest and "Mozilla" not in digest


def test_visitor_hash_accepts_any_text() -> None:
    assert len(visitor_hash(SECRET, DAY, "\ud800bad", "\udcff", "\x00")) == 32


@pytest.mark.parametrize(
    "variant", ["ann@example.com", "Ann@Example.COM", "  ann@example.com\n", "\tANN@EXAMPLE.COM "]
)
def test_email_key_ignores_case_and_surrounding_space(variant: str) -> None:
    assert email_key(SECRET, variant) == email_key(SECRET, "ann@example.com")


def test_email_key_is_keyed_and_never_contains_the_email() -> None:
    import hmac

    key = email_key(SECRET, "Ann@Example.com")
    assert key == hmac.new(SECRET, b"email:ann@example.com", hashlib.sha256).hexdigest()
    assert len(key) == 64
    assert "ann" not in key and "example" not in key
    # Not the dictionary-reversible plain hash (I5), and depends on the secret.
    assert key != hashlib.sha256(b"ann@example.com").hexdigest()
    assert key != email_key(b"other secret", "ann@example.com")
    assert key != email_key(SECRET, "bob@example.com")


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        (
            "https://s.example/?email=someone@example.com&a=1",
            "https://s.example/?email=(redacted)&a=1",
        ),
        ("https://s.example/?to=ann%40example.com", "https://s.example/?to=(redacted)"),
        ("https://s.example/?to=ann%2540example.com", "https://s.example/?to=ann%2540example.com"),
        ("https://s.example/?tel=%2B34%20600%20112%20233", "https://s.example/?tel=(redacted)"),
        ("https://s.example/?tel=+34600112233", "https://s.example/?tel=(redacted)"),
        ("https://s.example/?order=34600112233", "https://s.example/?order=34600112233"),
        ("https://s.example/?q=a+b&tt_hint=x.y", "https://s.example/?q=a+b"),
        ("https://s.example/u/ann@example.com/x?y", "https://s.example/u/(redacted)/x?y"),
        ("https://s.example/#e=ann@example.com&z", "https://s.example/#e=(redacted)&z"),
        ("https://s.example/?ann@example.com", "https://s.example/?(redacted)"),
        ("https://s.example/p?utm_source=news", "https://s.example/p?utm_source=news"),
    ],
)
def test_urls_are_stored_without_emails_or_phone_numbers(url: str, stored: str) -> None:
    assert redact_url(url, drop=("tt_hint",)) == stored


def test_phone_numbers_are_read_as_e164() -> None:
    assert phone_number(" +34 (600) 11-22.33 ") == "+34600112233"
    assert phone_number("34600112233") is None
    assert phone_number("+0123456789") is None
    assert phone_number("+123") is None
    assert phone_key(b"k" * 32, "+34 600 112233") == phone_key(b"k" * 32, "+34600112233")
