"""Attribution on the store's own collected data (`GET /api/attribution`, `tagtrail attribute`
without `--events`): the journeys are exported in the DESIGN §7 format and run through the same
engine and models as an events file."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.journeys import PathRules
from tagtrail.attribution.report import result_document, run_meta, run_models
from tagtrail.collect import journey_csv
from tagtrail.collect.journeys import Conversion
from tagtrail.errors import InvalidInput
from tagtrail.service.journeys import load_collected


def store_attribution(
    engine: Engine,
    workspace_id: int,
    *,
    models: Sequence[str],
    rules: PathRules,
    by: str = "channel",
    start: date | None = None,
    end: date | None = None,
    goal: str | None = None,
    session_timeout: timedelta = timedelta(minutes=30),
) -> dict[str, Any]:
    """The DESIGN §7 document for the workspace's collected journeys.

    `start`/`end` (whole UTC days, both included) select the conversions; touches before
    `start` still count within the lookback, and nothing after `end` is read. `goal` keeps only
    the conversions of that goal.
    """
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"the range ends ({end}) before it starts ({start})")
    started = time.perf_counter()
    collected = load_collected(engine, workspace_id, timeout=session_timeout)
    conversions = {
        who: [c for c in items if _keep(c, start, end, goal)]
        for who, items in collected.conversions.items()
    }
    arrivals = {
        who: [t for t in touches if end is None or t.timestamp.date() <= end]
        for who, touches in collected.arrivals.items()
    }
    rows = type(collected)(collected.graph, arrivals, conversions).journey_rows()
    with tempfile.TemporaryDirectory(prefix="tagtrail-attribution-") as folder:
        path = Path(folder) / "journeys.csv"
        path.write_text(journey_csv(rows), encoding="utf-8")
        loaded = duckdb_engine.load(path, rules=rules, by=by)
    meta = run_meta(loaded, rules, by=by, engine="duckdb")
    meta["source"] = "store"
    meta["range"] = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "goal": goal,
    }
    document = result_document(loaded, run_models(loaded, tuple(models)), meta, None)
    document["meta"]["seconds"] = round(time.perf_counter() - started, 3)
    return document


def _keep(conversion: Conversion, start: date | None, end: date | None, goal: str | None) -> bool:
    day = conversion.timestamp.date()
    if start is not None and day < start:
        return False
    if end is not None and day > end:
        return False
    return goal is None or conversion.goal == goal
