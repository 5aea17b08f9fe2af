"""Deterministic, keyed, stable holdout assignment (DESIGN §10 "Assignment").

A recipient's position is HMAC-SHA256(workspace secret, scope + recipient) read as a number in
[0, 1). The scope is the campaign's normalised name, so every message of one campaign holds out
the same recipients; the workspace's global control group uses a scope of its own, so it is
independent of every campaign. Without the secret nobody can tell who is held out, and changing
the share only adds or removes recipients at the edge (a recipient held out at 10 % is also held
out at 20 %).

The recipient is identified by its stored key (`email:<keyed hash>`, `phone:<keyed hash>` or
`user:<id>`), never by the address in clear, so the same person gets the same answer whichever
way the address was written.
"""

from __future__ import annotations

import hashlib
import hmac
import math

from tagtrail.errors import InvalidInput

_GLOBAL_SCOPE = b"holdout-global\x1f"
_CAMPAIGN_SCOPE = b"holdout-campaign\x1f"
_HINT = "give a percentage from 0 to 99.99, such as 10% or 10"


def holdout_share(value: str | float | int | None) -> float:
    """The share held out, from `10%`, `10` or `2.5%` (a percentage); None or empty is 0."""
    if value is None:
        return 0.0
    text = str(value).strip().removesuffix("%").strip()
    if not text:
        return 0.0
    try:
        percent = float(text)
    except ValueError:
        raise InvalidInput(f"holdout {value!r} is not a percentage", hint=_HINT) from None
    if not math.isfinite(percent) or not 0.0 <= percent < 100.0:
        raise InvalidInput(f"holdout {value!r} is out of range", hint=_HINT)
    return percent / 100.0


def share_text(share: float) -> str:
    """How a share is shown: 0.1 → `10%` (the form `holdout_share` reads back)."""
    return f"{round(share * 100, 6):g}%"


def holdout_position(secret: bytes, recipient_key: str, *, campaign: str | None) -> float:
    """Where the recipient falls in [0, 1) for this campaign (None: the global control group)."""
    scope = _GLOBAL_SCOPE if campaign is None else _CAMPAIGN_SCOPE + campaign.encode() + b"\x1f"
    digest = hmac.new(secret, scope + recipient_key.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def is_held_out(
    secret: bytes,
    recipient_key: str,
    *,
    campaign: str,
    share: float,
    global_share: float = 0.0,
) -> bool:
    """True when the recipient is in the workspace's global control group or the campaign's."""
    if global_share > 0.0 and holdout_position(secret, recipient_key, campaign=None) < global_share:
        return True
    return share > 0.0 and holdout_position(secret, recipient_key, campaign=campaign) < share
