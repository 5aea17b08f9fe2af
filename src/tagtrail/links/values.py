"""Normalising and encoding UTM values (DESIGN §4, "Value normalisation")."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote

_ASCII_RUN = re.compile(r"[^A-Za-z0-9.]+")
_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,100}")
_ASCII_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.")


def _keeps(char: str) -> bool:
    """Letters (with their combining marks), digits and `.` survive normalisation."""
    if char in _ASCII_KEEP:
        return True
    if char.isascii():
        return False
    return unicodedata.category(char)[0] in "LMN"


@lru_cache(maxsize=65536)
def normalize_value(value: str, separator: str = "-", lowercase: bool = True) -> str:
    """NFKC, trim, lower-case, runs of other characters to one `separator`, strip the ends.

    Combining marks stay with their letters (so scripts such as Devanagari survive). The result
    may be empty; the caller decides whether that is an error.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if lowercase:
        text = unicodedata.normalize("NFKC", text.lower())
    if text.isascii():
        return _ASCII_RUN.sub(separator, text).strip(separator + ".")
    out: list[str] = []
    pending = False
    for char in text:
        if _keeps(char):
            if pending and out:
                out.append(separator)
            pending = False
            out.append(char)
        else:
            pending = True
    return "".join(out).strip(separator + ".")


def is_valid_id(value: str) -> bool:
    """`utm_id` must be 1-100 of `A-Z a-z 0-9 . _ -` (case is kept)."""
    return _ID_PATTERN.fullmatch(value) is not None


@lru_cache(maxsize=65536)
def encode_value(value: str) -> str:
    """Percent-encode as UTF-8 with upper-case hex; only `A-Z a-z 0-9 - . _ ~` stay as they are."""
    return quote(value, safe="-._~")
