"""The few HTML pages a visitor of a short link may see (404, 410, 500, 503)."""

from __future__ import annotations

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;
color:#222}}h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""

NOT_FOUND = _PAGE.format(
    title="Link not found", text="This short link does not exist. Check that it was copied whole."
).encode()
GONE = _PAGE.format(
    title="Link no longer active", text="This short link has expired or was turned off."
).encode()
UNAVAILABLE = _PAGE.format(
    title="Try again in a moment", text="The link service is busy. Please reload this page."
).encode()
BROKEN = _PAGE.format(
    title="Link cannot be opened",
    text="This short link's destination is not a valid web address. Tell the sender.",
).encode()
