"""Store less: truncated IPs, a daily-salted visitor hash and a keyed email hash (pure).

The research's PII anchors (Plausible, Matomo, GA, Shlink; reliability-security §2.2) set the
defaults: a click row keeps the IP truncated to /24 (IPv4) or /48 (IPv6), never the raw address;
unique visitors are counted with a hash whose salt changes every UTC day and is never stored
(Plausible), so yesterday's hashes cannot be linked to today's; an email is kept only as an
HMAC-SHA256 under a server secret (rule I5: a plain SHA-256 of an email is reversible by
dictionary).

    >>> anonymize_ip("203.0.113.77")
    '203.0.113.0'
    >>> anonymize_ip("2001:db8:1234:5678::1")
    '2001:db8:1234::'
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Final
from urllib.parse import unquote, unquote_plus

__all__ = [
    "IPV4_PREFIX",
    "IPV6_PREFIX",
    "VISITOR_HASH_BYTES",
    "anonymize_ip",
    "daily_salt",
    "email_key",
    "parse_ip",
    "phone_key",
    "phone_number",
    "redact_url",
    "visitor_hash",
]

IPV4_PREFIX: Final = 24
IPV6_PREFIX: Final = 48
VISITOR_HASH_BYTES: Final = 16

_V4_MASK: Final = (1 << 32) - (1 << (32 - IPV4_PREFIX))
_V6_MASK: Final = (1 << 128) - (1 << (128 - IPV6_PREFIX))
#: What a redacted query value, path segment or fragment piece becomes (GA4's word).
REDACTED: Final = "(redacted)"
_EMAIL: Final = re.compile(r"[^@\s/?#&=]+@[^@\s/?#&=]+\.[^@\s/?#&=]+")
_PHONE_SEPARATORS: Final = re.compile(r"[\s().-]")
_E164: Final = re.compile(r"\+[1-9][0-9]{7,14}")
# A URL without one of these cannot carry an email or an E.164 number: no work to do.
_MAYBE_PII: Final = re.compile(r"@|%40|\+|%2B", re.IGNORECASE)


def _encode(text: str) -> bytes:
    """UTF-8 that never raises (a lone surrogate from a bad header is kept, not an error)."""
    return text.encode("utf-8", "surrogatepass")


def parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `ip` (IPv4-mapped IPv6 unwrapped to IPv4, zone dropped), or None.

    Never raises: anything that is not an IP address (or not a string) gives None.
    """
    if not isinstance(ip, str):
        return None
    text = ip.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text or len(text) > 64:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


@lru_cache(maxsize=65536)
def anonymize_ip(ip: str) -> str | None:
    """The /24 network of an IPv4 address or the /48 of an IPv6 one; None when not an address.

    An IPv4-mapped IPv6 address (`::ffff:203.0.113.77`) is treated as the IPv4 address it
    carries, a zone (`%eth0`) is dropped, and surrounding brackets are allowed.
    """
    address = parse_ip(ip)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return str(ipaddress.IPv4Address(int(address) & _V4_MASK))
    return str(ipaddress.IPv6Address(int(address) & _V6_MASK))


def _utc_day(day: date) -> date:
    if isinstance(day, datetime):
        return (day.astimezone(UTC) if day.tzinfo is not None else day).date()
    return day


@lru_cache(maxsize=64)
def daily_salt(secret: bytes, day: date) -> bytes:
    """HMAC-SHA256(secret, b"visitor-salt:" + ISO date): a new salt every UTC day, never stored.

    Derived rather than random so that every server process agrees without sharing state; once
    the day is over nothing links its hashes to the next day's (without the secret). A
    `datetime` is reduced to its UTC date (naive ones are taken as UTC).
    """
    message = b"visitor-salt:" + _utc_day(day).isoformat().encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()


@lru_cache(maxsize=65536)
def visitor_hash(secret: bytes, day: date, ip: str, user_agent: str, scope: str) -> str:
    """The daily unique-visitor id: 32 hex chars of HMAC(daily salt, scope, IP, user agent).

    Plausible's scheme (hash of daily salt + site + IP + UA); `scope` plays the site's part
    (e.g. a workspace or a link code), so the same visitor gets unrelated ids in two scopes.
    The raw IP goes in and is not kept; a valid IP is canonicalised first (`::ffff:1.2.3.4`
    and `1.2.3.4` are one visitor). The fields are joined with NUL so they cannot run together.
    """
    address = parse_ip(ip)
    canonical = str(address) if address is not None else ip
    message = b"\x00".join((_encode(scope), _encode(canonical), _encode(user_agent)))
    digest = hmac.new(daily_salt(secret, day), message, hashlib.sha256).digest()
    return digest[:VISITOR_HASH_BYTES].hex()


def phone_number(text: str) -> str | None:
    """`text` as an E.164 number (`+` and 8-15 digits, spaces, dots, dashes and brackets
    dropped: `"+34 600 11-22-33"` → `"+34600112233"`), or None when it is not one.

    Only numbers written with their `+` country prefix count: a bare run of digits is as
    likely an order number as a phone number.
    """
    compact = _PHONE_SEPARATORS.sub("", text.strip())
    return compact if _E164.fullmatch(compact) else None


def phone_key(secret: bytes, phone: str) -> str:
    """HMAC-SHA256(secret, b"phone:" + the E.164 form of `phone`), as 64 hex chars: a phone
    number is kept only as this, like an email (`email_key`)."""
    message = b"phone:" + _encode(phone_number(phone) or phone.strip())
    return hmac.digest(secret, message, "sha256").hex()


def _personal(text: str) -> bool:
    """Whether a (still encoded) URL piece carries an email address or an E.164 number."""
    decoded = unquote(text)
    if "@" in decoded and _EMAIL.search(unquote_plus(text)):
        return True
    return "+" in decoded and phone_number(decoded) is not None


def _redacted_pieces(text: str, drop: tuple[str, ...]) -> str:
    kept = []
    for piece in text.split("&"):
        name, equals, value = piece.partition("=")
        if name in drop:
            continue
        if equals and _personal(value):
            piece = f"{name}={REDACTED}"
        elif _personal(piece):
            piece = REDACTED
        kept.append(piece)
    return "&".join(kept)


@lru_cache(maxsize=16384)  # a link's landing URL repeats with every click on it
def redact_url(url: str | None, *, drop: tuple[str, ...] = ()) -> str | None:
    """`url` as it may be stored: every query value, path segment or fragment piece that holds
    an email address or an E.164 phone number becomes `(redacted)` (its parameter name is
    kept), and the query parameters named in `drop` are removed. The rest is kept byte for
    byte. Used for every URL and referrer a click or an event stores.

        >>> redact_url("https://shop.example/a?email=ann%40example.com&utm_source=news")
        'https://shop.example/a?email=(redacted)&utm_source=news'
        >>> redact_url("https://mail.example/?to=%2B34600112233#msg")
        'https://mail.example/?to=(redacted)#msg'
    """
    if not url or not (_MAYBE_PII.search(url) or any(f"{n}=" in url for n in drop)):
        return url
    base, hash_, fragment = url.partition("#")
    head, question, query = base.partition("?")
    scheme, slashes, rest = head.partition("://")
    if slashes:  # keep the authority as it is; look at the path segments only
        authority, slash, path = rest.partition("/")
        segments = [REDACTED if _personal(s) else s for s in path.split("/")]
        head = f"{scheme}://{authority}{slash}{'/'.join(segments)}"
    if question:
        query = _redacted_pieces(query, drop)
        question = "?" if query else ""
    if hash_ and _MAYBE_PII.search(fragment):
        fragment = _redacted_pieces(fragment, ())
    return f"{head}{question}{query}{hash_}{fragment}"


def email_key(secret: bytes, email: str) -> str:
    """HMAC-SHA256(secret, b"email:" + trimmed lower-cased email), as 64 hex chars (rule I5).

    The only form in which tagtrail stores an email: `" Ann@Example.COM "` and
    `"ann@example.com"` give the same key, and without the secret the key cannot be checked
    against a list of guessed addresses.
    """
    message = b"email:" + _encode(email.strip().lower())
    return hmac.digest(secret, message, "sha256").hex()  # one-shot C call: a render keys 100k
