"""Properties: the click helpers never raise on arbitrary input."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tagtrail.clicks import (
    BotVerdict,
    ClickFacts,
    IdentityHints,
    RecipientTokens,
    anonymize_ip,
    classify_click,
    visitor_hash,
)

HEADER_NAMES = st.sampled_from(["purpose", "sec-purpose", "x-purpose", "x-moz", "referer"])
TOKENS = RecipientTokens([b"secret"])
HINTS = IdentityHints([b"secret"])


@settings(max_examples=300, deadline=None)
@given(
    method=st.text(max_size=12),
    user_agent=st.text(max_size=300),
    headers=st.dictionaries(HEADER_NAMES | st.text(max_size=10), st.text(max_size=200), max_size=6),
    ip=st.none() | st.text(max_size=45) | st.ip_addresses().map(str),
    honeypot=st.booleans(),
    seconds=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    recent=st.integers(min_value=-(10**6), max_value=10**6),
)
def test_classify_click_never_raises(
    method: str,
    user_agent: str,
    headers: dict[str, str],
    ip: str | None,
    honeypot: bool,
    seconds: float | None,
    recent: int,
) -> None:
    verdict = classify_click(ClickFacts(method, user_agent, headers, ip, honeypot, seconds, recent))
    assert isinstance(verdict, BotVerdict)
    assert len(set(verdict.reasons)) == len(verdict.reasons)
    if honeypot:
        assert verdict.is_bot


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600), st.text(max_size=20))
def test_token_and_hint_checks_never_raise(token: str, link: str) -> None:
    assert TOKENS.recipient(token, link) is None
    assert HINTS.verify(token, link, datetime(2026, 5, 1, tzinfo=UTC)) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_tokens_round_trip(recipient: str, link: str) -> None:
    if recipient and link:
        assert TOKENS.recipient(TOKENS.token(recipient, link), link) == recipient


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60) | st.ip_addresses().map(str), st.text(max_size=50))
def test_privacy_helpers_never_raise(ip: str, user_agent: str) -> None:
    anonymized = anonymize_ip(ip)
    assert anonymized is None or anonymized != ip or anonymized.endswith((".0", "::"))
    assert len(visitor_hash(b"s", date(2026, 5, 1), ip, user_agent, "ws")) == 32
