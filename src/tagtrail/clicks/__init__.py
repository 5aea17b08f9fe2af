"""Pure helpers the redirect calls on every click: bot flags, recipient tokens, privacy.

No I/O, no clock (the caller passes `now`), no database; only package data is read. The
server and the store (issue 4) call these; docs/clicks.md describes the rules and formats.

    >>> classify_click(ClickFacts("HEAD", "Mozilla/5.0", {}, None)).reasons
    ('head',)
    >>> anonymize_ip("203.0.113.77")
    '203.0.113.0'
"""

from __future__ import annotations

from tagtrail.clicks.bots import (
    HARD_REASONS,
    REASONS,
    SOFT_REASONS,
    BotRules,
    BotVerdict,
    ClickFacts,
    classify_click,
)
from tagtrail.clicks.privacy import (
    anonymize_ip,
    daily_salt,
    email_key,
    phone_key,
    phone_number,
    redact_url,
    visitor_hash,
)
from tagtrail.clicks.tokens import HINT_PARAMETER, TOKEN_PARAMETER, IdentityHints, RecipientTokens

__all__ = [
    "HARD_REASONS",
    "HINT_PARAMETER",
    "REASONS",
    "SOFT_REASONS",
    "TOKEN_PARAMETER",
    "BotRules",
    "BotVerdict",
    "ClickFacts",
    "IdentityHints",
    "RecipientTokens",
    "anonymize_ip",
    "classify_click",
    "daily_salt",
    "email_key",
    "phone_key",
    "phone_number",
    "redact_url",
    "visitor_hash",
]
