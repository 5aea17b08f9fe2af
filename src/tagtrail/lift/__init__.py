"""Holdouts and lift (DESIGN §10): who is held out of a campaign, and what the campaign caused.

Pure: values in, values out; the secret and the shares are passed in by the caller.

    >>> holdout_share("10%")
    0.1
    >>> is_held_out(b"k" * 32, "user:u1", campaign="spring", share=0.0)
    False
"""

from __future__ import annotations

from tagtrail.lift.assignment import holdout_position, holdout_share, is_held_out, share_text

__all__ = ["holdout_position", "holdout_share", "is_held_out", "share_text"]
