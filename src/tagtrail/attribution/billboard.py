"""`billboard`: exposure-based last touch (Instasent's sales window; research §1.5).

A conversion goes to the most recent qualifying event before it (at or before its time; ties by
file order): a send or impression (`exposure`) within `exposure_window` (24 h), or a click (a
touch) within `click_window` (3 days). Windows are inclusive, in whole seconds, and ignore R2
(one send may cover several conversions, as on Instasent). A conversion with no qualifying
event goes to `direct`, so totals are conserved.
"""

from __future__ import annotations

from collections.abc import Iterable

from tagtrail.attribution.credit import Credit
from tagtrail.attribution.path_rules import Event, PathRules, user_paths
from tagtrail.attribution.paths import Collected, Floats


def _winner(conversion: Event, events: list[Event], rules: PathRules) -> str | None:
    best: Event | None = None
    for e in events:
        if e.type == "exposure":
            window = rules.exposure_window
        elif e.type in rules.touch_types:
            window = rules.click_window
        else:
            continue
        if e.ts <= conversion.ts and conversion.ts - e.ts <= window:
            if best is None or (e.ts, e.line) > (best.ts, best.line):
                best = e
    return None if best is None else best.channel


def billboard_winners(events: Iterable[Event], rules: PathRules | None = None) -> list[str | None]:
    """The billboard channel of each path `build_paths` returns (None: not converting, or no
    qualifying event), in the same order."""
    rules = rules or PathRules()
    by_user: dict[str, list[Event]] = {}
    for event in events:
        by_user.setdefault(event.user, []).append(event)
    out: list[str | None] = []
    for user_events in by_user.values():
        conversions = sorted(
            (e for e in user_events if e.type == "conversion"), key=lambda e: (e.ts, e.line)
        )
        for conversion in conversions:
            out.append(_winner(conversion, user_events, rules))
        n_paths = len(user_paths(user_events, rules))
        out.extend([None] * (n_paths - len(conversions)))
    return out


def billboard(collected: Collected, weights: Floats | None = None) -> Credit:
    """Credit of the billboard winners the engine found for every conversion."""
    conv, value = collected.touch_credit(collected.billboard, weights)
    return Credit(collected.channels, conv, value)
