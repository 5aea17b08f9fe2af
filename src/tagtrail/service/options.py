"""The options the front ends share, read once: durations, holdouts and the attribution path
rules.

Each raises `InvalidOptions` naming the option as the caller took it (`lookback`,
`touch_types`); the CLI words it as a usage error for `--lookback`, the MCP tools as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from tagtrail.attribution.path_rules import PathRules
from tagtrail.errors import InvalidInput, InvalidOptions
from tagtrail.lift.assignment import holdout_share, share_text

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str, option: str) -> int:
    """`30d`, `24h`, `90m`, `3600s` or `2w` → whole seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if not match:
        raise InvalidOptions(f"{text!r} is not a duration like 30d, 24h or 90m", option=option)
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_holdout(text: str, option: str) -> str:
    """A holdout percentage (`10%`, `10`, `2.5%`) checked and written back as `10%`, the form
    the service functions and the API read; a value outside 0 to 99.99 % or not a number is
    refused naming `option`."""
    try:
        return share_text(holdout_share(text))
    except InvalidInput as exc:
        raise InvalidOptions(f"{exc.message}: {exc.hint}", option=option) from None


def path_rules(
    *,
    lookback: str,
    touch_types: Iterable[str],
    collapse_repeats: bool,
    half_life: str,
    exposure_window: str,
    click_window: str,
) -> PathRules:
    """Rules R1–R7 from the attribution options (docs/models.md)."""
    types = tuple(t.strip().lower() for t in touch_types if t.strip())
    if not types or "conversion" in types:
        raise InvalidOptions(
            "list event types such as touch,exposure (not conversion)", option="touch_types"
        )
    return PathRules(
        lookback=parse_duration(lookback, "lookback"),
        touch_types=types,
        collapse_repeats=collapse_repeats,
        exposure_window=parse_duration(exposure_window, "exposure_window"),
        click_window=parse_duration(click_window, "click_window"),
        half_life=max(1, parse_duration(half_life, "half_life")),
    )


def check_range(start: date | datetime | None, end: date | datetime | None) -> None:
    """A date range whose end is not before its start."""
    if start is not None and end is not None and end < start:
        raise InvalidOptions(f"end {end} is before start {start}")
