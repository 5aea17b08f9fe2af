"""The links of an SMS text: full URLs and bare domains (`acme.example/sale?p=1`), with spans.

A bare domain needs a dot and a top-level label of two or more letters, and is not part of an
email address (`ann@acme.example` is no link). Trailing punctuation (`.`, `,`, `!`, `?`, `;`,
`:`, quotes, and a `)` without its `(`) stays outside the link, as people write it after a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_URL = re.compile(
    r"""(?<![\w@.\-/])"""  # not inside a word, an email address or another URL
    r"""(?:(?P<scheme>https?://)[^\s<>"]+"""
    r"""|(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?![\w\-@])"""
    r"""(?::\d{1,5})?(?:[/?#][^\s<>"]*)?)""",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"*"


@dataclass(frozen=True, slots=True)
class SmsLink:
    """A URL found in an SMS: as written (`raw`), as a destination (`url`, with `https://` when
    written without a scheme) and its character span in the text."""

    raw: str
    url: str
    start: int
    end: int


def find_sms_links(text: str) -> list[SmsLink]:
    found = []
    for match in _URL.finditer(text):
        raw = _trim(match.group(0))
        if "." not in raw.split("/", 3)[2 if match.group("scheme") else 0]:
            continue  # `https://localhost` and the like: not a public link
        url = raw if match.group("scheme") else "https://" + raw
        found.append(SmsLink(raw, url, match.start(), match.start() + len(raw)))
    return found


def _trim(raw: str) -> str:
    while raw and (raw[-1] in _TRAILING or (raw[-1] == ")" and raw.count(")") > raw.count("("))):
        raw = raw[:-1]
    return raw
