"""Redirects hidden in a page: the `Refresh` header, `<meta http-equiv="refresh">`, and script.

Only the first 64 KiB of a page are ever looked at (the checker reads no more). Script redirects
are detected, never executed: the checker reports them as unverifiable instead of guessing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_REFRESH = re.compile(
    r"""^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(?P<q>['"]?)(?P<url>.*?)(?P=q)\s*$""",
    re.IGNORECASE | re.DOTALL,
)
_JS_REDIRECT = re.compile(
    r"""(?:\blocation\.href\s*=(?!=)|\blocation\.(?:replace|assign)\s*\("""
    r"""|\b(?:window|document|top|self)\.location\s*=(?!=))""",
)


def parse_refresh(value: str) -> str | None:
    """The target of a `Refresh` value such as `0; url=/next`, or None when it names none."""
    match = _REFRESH.match(value)
    if match is None:
        return None
    url = match.group("url").strip()
    return url or None


class _MetaRefresh(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.target: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta" or self.target is not None:
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        if values.get("http-equiv", "").strip().lower() == "refresh":
            self.target = parse_refresh(values.get("content", ""))


def find_meta_refresh(body: bytes) -> str | None:
    """The target of the first `<meta http-equiv="refresh" content="…; url=…">`, if any."""
    parser = _MetaRefresh()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except AssertionError:  # html.parser gives up on some broken markup
        pass
    return parser.target


def find_js_redirect(body: bytes) -> str | None:
    """The script snippet that redirects (`location.href=`, `location.replace(`…), if any."""
    text = body.decode("utf-8", errors="replace")
    match = _JS_REDIRECT.search(text)
    if match is None:
        return None
    return match.group(0).strip()
