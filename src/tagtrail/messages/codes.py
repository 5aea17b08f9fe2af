"""Per-recipient codes (DESIGN §9): `BASE/CODE` with a CODE of 10 characters.

A code is a recipient part of 8 random characters, one per (message, recipient), followed by
the link's position in 2 characters. So a newsletter to 100k recipients with 30 links adds 100k
rows, not 3M: the redirect looks the recipient part up once and picks the message's link by the
position. 8 characters of 62 give 62^8 ≈ 2.2 × 10^14 recipient parts: with a million
recipients a guess hits one in ~200 million tries. Positions 1–3,843 fit in 2 characters.
"""

from __future__ import annotations

import secrets
import string

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
RECIPIENT_LENGTH = 8
POSITION_LENGTH = 2
CODE_LENGTH = RECIPIENT_LENGTH + POSITION_LENGTH
MAX_POSITION = len(ALPHABET) ** POSITION_LENGTH - 1
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_TABLE = bytes(ord(ALPHABET[b % 62]) for b in range(248)) + bytes(8)  # byte → its character
_DROP = bytes(range(248, 256))


def recipient_part() -> str:
    """8 characters drawn uniformly from the 62 (bytes of 248 and above are dropped, so the
    modulo has no bias)."""
    return recipient_parts(1)[0]


def recipient_parts(count: int) -> list[str]:
    """`count` recipient parts from one read of the system's random source per batch (a
    render draws one per recipient; a read each cost more than the rest of making it)."""
    chars = ""
    while len(chars) < count * RECIPIENT_LENGTH:
        need = count * RECIPIENT_LENGTH - len(chars)
        # bytes of 248 and above (3 %) are dropped: the rest map onto the 62 without bias
        chars += secrets.token_bytes(need + need // 16 + 16).translate(_TABLE, _DROP).decode()
    return [
        chars[i : i + RECIPIENT_LENGTH]
        for i in range(0, count * RECIPIENT_LENGTH, RECIPIENT_LENGTH)
    ]


def position_suffix(position: int) -> str:
    if not 1 <= position <= MAX_POSITION:
        raise ValueError(f"a position is 1-{MAX_POSITION}, not {position}")
    high, low = divmod(position, len(ALPHABET))
    return ALPHABET[high] + ALPHABET[low]


def split_code(code: str) -> tuple[str, int] | None:
    """(recipient part, position) of a per-recipient code, or None when it cannot be one."""
    if len(code) != CODE_LENGTH:
        return None
    try:
        high, low = _INDEX[code[-2]], _INDEX[code[-1]]
        if any(c not in _INDEX for c in code[:RECIPIENT_LENGTH]):
            return None
    except KeyError:
        return None
    position = high * len(ALPHABET) + low
    return (code[:RECIPIENT_LENGTH], position) if position else None
