"""The dashboard's message pages: a message's document and stats, and its click map.

The click map is the email itself in an `<iframe sandbox srcdoc=…>`: no scripts, no forms, no
same-origin access, `src`-like attributes renamed so that nothing is even asked for, and a
Content-Security-Policy (in the page's header, which the frame inherits, and in the frame) that
loads nothing remote; each tracked link's human clicks are in a badge right after its start tag.
An SMS is shown as text with the same badges.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from sqlalchemy import Engine

from tagtrail.service.messages import load_message, message_stats, show_message

_CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">"
)
# Attributes that make a browser fetch something, renamed inside every tag of the email so that
# nothing is even asked for (the policy above and the page's header also block it).
_FETCHING = re.compile(r"(\s)(src|srcset|background|poster)(\s*=)", re.IGNORECASE)
_TAG = re.compile(r"<[A-Za-z][^>]*>")
_BADGE_STYLE = (
    "<style>.tt-clicks{display:inline-block;margin:0 4px;padding:1px 6px;border-radius:9px;"
    "background:#c2185b;color:#fff;font:bold 12px/1.4 sans-serif;text-decoration:none}</style>"
)


def message_page(
    engine: Engine, workspace_id: int, message_id: int, *, origin: str, secret: bytes
) -> dict[str, Any]:
    doc = show_message(engine, workspace_id, message_id, origin=origin)
    stats = message_stats(engine, workspace_id, message_id, secret=secret, admin=True)
    human = {link["position"]: link["human"] for link in stats["links"]}
    with engine.connect() as conn:
        message = load_message(conn, workspace_id, message_id)
    return {
        "doc": doc,
        "stats": stats,
        "per_link": {link["position"]: link for link in stats["links"]},
        "click_map": click_map(message.body, message.channel, message.found, human),
    }


def click_map(body: str, channel: str, found: Any, human: dict[int, int]) -> str:
    """The `srcdoc` of the click map (escaped by the template as an attribute value)."""
    tracked = [f for f in found if f.reason is None]
    out, at = [], 0
    for link in tracked:
        close = link.end if channel == "sms" else body.find(">", link.end)
        close = len(body) if close < 0 else close + (0 if channel == "sms" else 1)
        piece = body[at:close]
        out.append(escape(piece) if channel == "sms" else piece)
        count = human.get(link.position, 0)
        out.append(
            f'<span class="tt-clicks" title="link {link.position}: {count} human clicks">'
            f"{count}</span>"
        )
        at = close
    rest = body[at:]
    out.append(escape(rest) if channel == "sms" else rest)
    content = "".join(out)
    if channel == "sms":
        content = f'<pre style="white-space:pre-wrap;font:15px sans-serif">{content}</pre>'
    else:
        content = _TAG.sub(lambda tag: _FETCHING.sub(r"\1data-tt-\2\3", tag.group()), content)
    return _CSP + _BADGE_STYLE + content
