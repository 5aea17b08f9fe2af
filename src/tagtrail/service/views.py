"""Each dashboard page's context: plain functions of (engine, workspace, …) → dict, run in a
thread by the routes, and shared with `tagtrail report`."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import segno
from sqlalchemy import Engine, select

from tagtrail import charts
from tagtrail.charts import Series
from tagtrail.service import figures, reports
from tagtrail.service.collected import user_journey
from tagtrail.service.insights import (
    CHART_MODELS,
    Insights,
    link_credit,
)
from tagtrail.service.links import get_link, resolve
from tagtrail.service.reports import Window
from tagtrail.service.stats import link_stats
from tagtrail.settings import Settings
from tagtrail.store.schema import settings_versions

HUMAN, BOT, CONV = "#4e79a7", "#e15759", "#59a14f"


_MODELS_NOTE = "The model comparison is being recomputed with the newest data: reload in a moment."
_FIRST_NOTE = "The model comparison is being computed: reload in a moment."


def _journeys(
    engine: Engine, ws: int, settings: Settings, key: figures.Key, wait: float | None
) -> tuple[Any | None, dict[str, Any]]:
    """The figure `key` of the workspace's collected journeys (None when there is none yet
    within `wait` seconds; None waits for it), and the page's note on how current it is."""
    found = figures.figure(engine, ws, settings, key, wait=wait)
    note = found.note()
    return found.value, {"journeys_note": note} if note else {}


def _day_chart(title: str, days: list[dict[str, Any]]) -> Any:
    labels = [d["day"] for d in days]
    return charts.stacked_bars(
        title,
        labels,
        [
            Series("human clicks", tuple(float(d["human"]) for d in days), HUMAN),
            Series("bot clicks", tuple(float(d["bot"]) for d in days), BOT),
        ],
    )


def _insights(
    engine: Engine, ws: int, settings: Settings, window: Window, wait: float | None
) -> tuple[Insights | None, dict[str, Any]]:
    found: Insights | None
    found, note = _journeys(engine, ws, settings, ("insights", window), wait)
    return found, note


_TARGETS: WeakKeyDictionary[Engine, tuple[int, dict[str, str | None]]] = WeakKeyDictionary()


def _targets(engine: Engine, codes: list[str]) -> dict[str, str]:
    """Each link's tracked destination, kept while the links version (bumped by any change to a
    link, campaign or workspace UTM defaults) stays the same."""
    with engine.connect() as conn:
        version = conn.execute(
            select(settings_versions.c.version).where(settings_versions.c.name == "links")
        ).scalar_one()
    kept = _TARGETS.get(engine)
    if kept is None or kept[0] != int(version):
        kept = _TARGETS[engine] = (int(version), {})
    known = kept[1]
    for code in codes:
        if code not in known:
            resolved = resolve(engine, code)
            known[code] = resolved.target if resolved is not None else None
    return {code: target for code in codes if (target := known[code]) is not None}


def overview(
    engine: Engine, ws: int, settings: Settings, window: Window, *, wait: float | None = None
) -> dict[str, Any]:
    days = reports.daily_clicks(engine, ws, window)
    found, note = _insights(engine, ws, settings, window, wait)
    pending = found is None
    found = found or Insights()
    conv_days = list(found.by_day)
    return {
        **note,
        "clicks_chart": _day_chart("Clicks per day (human and bot)", days),
        "conversions_chart": charts.stacked_bars(
            "Conversions per day",
            conv_days,
            [Series("conversions", tuple(v[0] for v in found.by_day.values()), CONV)],
        ),
        "human": sum(d["human"] for d in days),
        "bot": sum(d["bot"] for d in days),
        "conversions": None if pending else found.conversions,
        "revenue": None if pending else found.revenue,
    }


def campaigns(
    engine: Engine, ws: int, settings: Settings, window: Window, *, wait: float | None = None
) -> dict[str, Any]:
    rows = reports.campaign_table(engine, ws, window)
    link_rows = reports.link_table(engine, ws, window)
    found, note = _insights(engine, ws, settings, window, wait)
    found = found or Insights()
    per_link = {}
    if found.landings:
        per_link = link_credit(found, _targets(engine, [r["code"] for r in link_rows[:200]]))
    for row in rows:
        row["conversions"], row["revenue"] = found.campaigns.get(row["key"], [0.0, 0.0])
    for row in link_rows:
        row["conversions"], row["revenue"] = per_link.get(row["code"], [0.0, 0.0])
    return {**note, "campaigns": rows, "links": link_rows}


def link_page(engine: Engine, ws: int, origin: str, code: str) -> dict[str, Any]:
    link = get_link(engine, code, origin=origin, workspace_id=ws)
    stats = link_stats(engine, code, workspace_id=ws)
    qr = segno.make_qr(link.short_url).svg_inline(scale=4, border=2, title=link.short_url)
    return {
        "link": link,
        "stats": stats,
        "qr": qr,
        "timeline": _day_chart(f"Clicks per day on {code}", stats["by_day"]),
    }


def channels(
    engine: Engine, ws: int, settings: Settings, window: Window, *, wait: float | None = None
) -> dict[str, Any]:
    found, note = _insights(engine, ws, settings, window, wait)
    if found is None:
        return note
    names = list(found.channels)
    chart = charts.grouped_bars(
        "Arrivals and conversions per channel",
        names,
        ["arrivals", "conversions"],
        {
            "arrivals": {c: v["arrivals"] for c, v in found.channels.items()},
            "conversions": {c: v["conversions"] for c, v in found.channels.items()},
        },
    )
    return {**note, "channels": found.channels, "chart": chart}


def attribution(
    engine: Engine, ws: int, settings: Settings, window: Window, *, wait: float | None = None
) -> dict[str, Any]:
    """The model comparison of the window's goal (default: the goal with revenue), built in
    the engine over the store (`figures.figure`)."""
    found = figures.figure(engine, ws, settings, ("models", window), wait=wait)
    document = found.value
    note = {} if found.fresh else {"journeys_note": _MODELS_NOTE if document else _FIRST_NOTE}
    goals = (
        {"goal": document["meta"]["goal"], "goal_names": document["meta"]["goals"]}
        if document
        else {}
    )
    if not document or not document["meta"]["total_conversions"]:
        return {**note, **goals, "document": None, "chart": None, "models": CHART_MODELS}
    models = document["models"]
    groups = list(document["meta"]["channels"])
    chart = charts.grouped_bars(
        "Conversions credited per channel under each model",
        groups,
        list(models),
        {m: models[m]["conversions"] for m in models},
        {m: models[m]["ci"]["conversions"] for m in models if "ci" in models[m]},
    )
    return {
        **note,
        **goals,
        "document": document,
        "chart": chart,
        "models": list(models),
        "channels": groups,
    }


def profile(engine: Engine, ws: int, settings: Settings, user_id: str) -> dict[str, Any]:
    """The user's profile, arrivals and conversions, read from its identity's rows at once
    through the stored mapping (rows the writer has not folded yet are folded first)."""
    return user_journey(engine, ws, user_id, **settings.sessions)
