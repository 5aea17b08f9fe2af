"""Attribution on the store's own collected data (`GET /api/attribution`, `tagtrail attribute`
without `--events`, the dashboard's model comparison): one goal's conversions and the touches
before them are exported in the DESIGN §7 format and run through the same engine and models as
an events file.

Each goal is attributed on its own, as GA4 attributes each key event: R2 ("a touch is never
reused by a later conversion") applies among the conversions of one goal, so a `Signed Up` does
not consume the email click that an `Order Completed` a second later owes its revenue to.
Without a goal, the goal with revenue is chosen (`default_goal`).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.document import bootstrap, result_document, run_meta, run_models
from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.paths import Collected as Paths
from tagtrail.collect import Conversion, JourneyRow, best_goal, journey_csv
from tagtrail.errors import InvalidInput
from tagtrail.service.collected import Collected
from tagtrail.service.journeys import Journeys, collected_journeys

#: How errors name the exported journeys (never the server's temporary path).
SOURCE_NAME = "collected journeys"


@dataclass(frozen=True, slots=True)
class AttributionQuery:
    """What to attribute: the models, path rules and dimension, the conversions' days (whole
    UTC days, both included; touches before `start` still count within the lookback, nothing
    after `end` is read) and the goal (None: `default_goal`; unknown: an error naming the
    known goals)."""

    models: tuple[str, ...]
    rules: PathRules = PathRules()
    by: str = "channel"
    start: date | None = None
    end: date | None = None
    goal: str | None = None


def store_attribution(
    engine: Engine,
    workspace_id: int,
    query: AttributionQuery,
    *,
    session_timeout: timedelta = timedelta(minutes=30),
    new_session_on_campaign_change: bool = False,
    ci: tuple[float, int] | None = None,
    engine_name: str = "duckdb",
    spark_master: str | None = None,
) -> dict[str, Any]:
    """The DESIGN §7 document for one goal of the workspace's collected journeys, built in the
    engine (`service.journeys`): the same document as `collected_attribution` on
    `load_collected`, without loading the rows into Python. `engine_name="spark"` hands the
    journeys to Spark as a Parquet events file (`spark_master`: default local[2])."""
    _check_range(query.start, query.end)
    started = time.perf_counter()
    with collected_journeys(
        engine,
        workspace_id,
        timeout=session_timeout,
        new_session_on_campaign_change=new_session_on_campaign_change,
    ) as found:
        document = journeys_attribution(
            found, query, ci=ci, engine_name=engine_name, spark_master=spark_master
        )
    document["meta"]["seconds"] = round(time.perf_counter() - started, 3)
    return document


def journeys_attribution(
    found: Journeys,
    query: AttributionQuery,
    *,
    ci: tuple[float, int] | None = None,
    engine_name: str = "duckdb",
    spark_master: str | None = None,
) -> dict[str, Any]:
    """`store_attribution` of journeys already built (`collected_journeys`)."""
    _check_range(query.start, query.end)
    started = time.perf_counter()
    known = [g.event for g in found.goals]
    chosen = found.default_goal() if query.goal is None else _known_goal(known, query.goal)
    table = found.build(chosen, query.start, query.end)
    if engine_name == "spark":
        loaded = _on_spark(found, query, spark_master)
    else:
        loaded = duckdb_engine.load_relation(
            found.con, table, rules=query.rules, by=query.by, name=SOURCE_NAME
        )
    document = _document(loaded, query, chosen, known, ci, engine_name)
    document["meta"]["seconds"] = round(time.perf_counter() - started, 3)
    return document


def _on_spark(found: Journeys, query: AttributionQuery, master: str | None) -> Paths:
    from tagtrail.attribution import spark_engine

    with tempfile.TemporaryDirectory(prefix="tagtrail-journeys-") as folder:
        path = found.export_parquet(Path(folder) / "journeys.parquet")
        return spark_engine.load(
            path, rules=query.rules, by=query.by, master=master or spark_engine.DEFAULT_MASTER
        )


def _check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"the range ends ({end}) before it starts ({start})")


def default_goal(collected: Collected) -> str | None:
    """The goal with revenue: the one whose collected conversions carry the most value, then
    the one with a revenue property, then the one with most conversions; ties go to the goal
    added first. None when the workspace has no goal."""
    value: dict[str, Decimal] = {}
    count: dict[str, int] = {}
    for items in collected.conversions.values():
        for conv in items:
            value[conv.goal] = value.get(conv.goal, Decimal(0)) + conv.value
            count[conv.goal] = count.get(conv.goal, 0) + 1
    if not collected.goals:
        return None
    return best_goal(collected.goals, value, count).event


def _goal(collected: Collected, goal: str | None) -> str | None:
    if goal is None:
        return default_goal(collected)
    return _known_goal([g.event for g in collected.goals], goal)


def _known_goal(known: list[str], goal: str) -> str:
    if goal not in known:
        raise InvalidInput(
            f"unknown goal {goal!r}",
            hint=f"known goals: {', '.join(known)}"
            if known
            else "this workspace has no goal yet: add one with `tagtrail goals add EVENT`",
        )
    return goal


def collected_attribution(
    collected: Collected, query: AttributionQuery, *, ci: tuple[float, int] | None = None
) -> dict[str, Any]:
    """The DESIGN §7 document for `query` on `collected`; `ci` = (level, samples) adds
    bootstrap intervals (seed 0). No conversion is a valid answer: every model with zero
    credit. `meta.goal` is the goal attributed and `meta.goals` every goal of the workspace."""
    chosen = _goal(collected, query.goal)
    rows = _rows(collected, chosen, query.start, query.end)
    with tempfile.TemporaryDirectory(prefix="tagtrail-attribution-") as folder:
        path = Path(folder) / "journeys.csv"
        path.write_text(journey_csv(rows, content=query.by == "content"), encoding="utf-8")
        loaded = duckdb_engine.load(path, rules=query.rules, by=query.by, name=SOURCE_NAME)
    return _document(loaded, query, chosen, [g.event for g in collected.goals], ci)


def _document(
    loaded: Paths,
    query: AttributionQuery,
    chosen: str | None,
    goals: list[str],
    ci: tuple[float, int] | None,
    engine: str = "duckdb",
) -> dict[str, Any]:
    rules, by, start, end, goal = query.rules, query.by, query.start, query.end, query.goal
    names = query.models
    meta = run_meta(loaded, rules, by=by, engine=engine)
    meta["source"] = "store"
    meta["goal"] = chosen
    meta["goals"] = goals
    meta["range"] = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "goal": goal,  # as asked; `meta.goal` is the goal attributed
    }
    intervals = None
    if ci is not None and loaded.n_users >= 2:
        level, samples = ci
        intervals = bootstrap(loaded, names, level=level, samples=samples, seed=0)
        meta["ci"] = {"level": level, "samples": samples, "seed": 0}
    return result_document(loaded, run_models(loaded, names), meta, intervals)


def _rows(
    collected: Collected, goal: str | None, start: date | None, end: date | None
) -> list[JourneyRow]:
    conversions = {
        who: [c for c in items if c.goal == goal and _in_range(c, start, end)]
        for who, items in collected.conversions.items()
    }
    arrivals = {
        who: [t for t in touches if end is None or t.timestamp.date() <= end]
        for who, touches in collected.arrivals.items()
    }
    return Collected(collected.graph, arrivals, conversions, collected.goals).journey_rows()


def _in_range(conversion: Conversion, start: date | None, end: date | None) -> bool:
    day = conversion.timestamp.date()
    return (start is None or day >= start) and (end is None or day <= end)
