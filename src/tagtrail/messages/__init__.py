"""Campaign messages, the pure part (DESIGN §9): which links of an email or SMS are tracked,
the body cut into a template for per-recipient rendering, SMS segments, per-recipient codes."""

from __future__ import annotations

from tagtrail.messages.codes import CODE_LENGTH, position_suffix, recipient_part, split_code
from tagtrail.messages.plan import (
    CHANNELS,
    Channel,
    FoundLink,
    MessagePlan,
    Reason,
    Template,
    plan_message,
    slug,
)
from tagtrail.messages.segments import Segments, count_segments

__all__ = [
    "CHANNELS",
    "CODE_LENGTH",
    "Channel",
    "FoundLink",
    "MessagePlan",
    "Reason",
    "Segments",
    "Template",
    "count_segments",
    "plan_message",
    "position_suffix",
    "recipient_part",
    "slug",
    "split_code",
]
