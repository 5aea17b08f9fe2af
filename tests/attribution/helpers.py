"""Helpers for the attribution tests: tables from literal paths, CSV files from events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tagtrail.attribution.path_rules import Event
from tagtrail.attribution.paths import PathTable

HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value\n"


def table(rows: Sequence[tuple[str, float, float, float]], direct: str = "direct") -> PathTable:
    """rows: ("a>b>c", conversions, value, nulls)."""
    names = sorted({c for path, *_ in rows for c in path.split(">")} | {direct})
    index = {n: i for i, n in enumerate(names)}
    return PathTable(
        tuple(names),
        tuple(tuple(index[c] for c in path.split(">")) for path, *_ in rows),
        np.array([r[1] for r in rows], dtype=float),
        np.array([r[2] for r in rows], dtype=float),
        np.array([r[3] for r in rows], dtype=float),
        direct,
    )


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_events(path: Path, events: Sequence[Event]) -> Path:
    """Write events in the given order (line = index + 2); `Event.line` is ignored."""
    lines = [HEADER]
    for e in events:
        if e.type == "conversion":
            lines.append(f"{e.user},{iso(e.ts)},conversion,,,,,{e.value:.2f}\n")
        else:
            lines.append(f"{e.user},{iso(e.ts)},{e.type},{e.channel},src,med,camp,\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def numbered(events: Sequence[Event]) -> list[Event]:
    """The events with `line` set to their line in a file written by `write_events`."""
    return [Event(e.user, e.ts, e.type, e.channel, e.value, i + 2) for i, e in enumerate(events)]
