"""Each dashboard page's context: plain functions of (engine, workspace, …) → dict, run in a
thread by the routes, and shared with `tagtrail report`."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import segno
from sqlalchemy import Engine

from tagtrail.server.dashboard import charts, data
from tagtrail.server.dashboard.charts import Series
from tagtrail.server.dashboard.data import Window
from tagtrail.server.dashboard.insights import CHART_MODELS, insights, model_comparison
from tagtrail.service.journeys import Collected, load_collected, profile_of
from tagtrail.service.links import get_link, resolve
from tagtrail.service.stats import link_stats
from tagtrail.settings import Settings

HUMAN, BOT, CONV = "#4e79a7", "#e15759", "#59a14f"
_CACHE_SECONDS = 2.0
_cache: dict[tuple[int, int], tuple[float, Collected]] = {}


def collected(engine: Engine, workspace_id: int, settings: Settings) -> Collected:
    """The workspace's collected journeys (kept 2 s per process: one page draws several views)."""
    key = (id(engine), workspace_id)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return hit[1]
    found = load_collected(
        engine,
        workspace_id,
        timeout=timedelta(minutes=settings.session_timeout_minutes),
        new_session_on_campaign_change=settings.session_on_campaign_change,
    )
    _cache[key] = (time.monotonic(), found)
    return found


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


def overview(engine: Engine, ws: int, settings: Settings, window: Window) -> dict[str, Any]:
    days = data.daily_clicks(engine, ws, window)
    found = insights(collected(engine, ws, settings), window)
    conv_days = list(found.by_day)
    return {
        "clicks_chart": _day_chart("Clicks per day (human and bot)", days),
        "conversions_chart": charts.stacked_bars(
            "Conversions per day",
            conv_days,
            [Series("conversions", tuple(v[0] for v in found.by_day.values()), CONV)],
        ),
        "human": sum(d["human"] for d in days),
        "bot": sum(d["bot"] for d in days),
        "conversions": found.conversions,
        "revenue": found.revenue,
    }


def campaigns(engine: Engine, ws: int, settings: Settings, window: Window) -> dict[str, Any]:
    rows = data.campaign_table(engine, ws, window)
    link_rows = data.link_table(engine, ws, window)
    targets = {}
    for row in link_rows[:200]:
        resolved = resolve(engine, row["code"])
        if resolved is not None:
            targets[row["code"]] = resolved.target
    found = insights(collected(engine, ws, settings), window, targets)
    for row in rows:
        row["conversions"], row["revenue"] = found.campaigns.get(row["campaign"], [0.0, 0.0])
    for row in link_rows:
        row["conversions"], row["revenue"] = found.links.get(row["code"], [0.0, 0.0])
    return {"campaigns": rows, "links": link_rows}


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


def channels(engine: Engine, ws: int, settings: Settings, window: Window) -> dict[str, Any]:
    found = insights(collected(engine, ws, settings), window)
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
    return {"channels": found.channels, "chart": chart}


def attribution(engine: Engine, ws: int, settings: Settings, window: Window) -> dict[str, Any]:
    document = model_comparison(collected(engine, ws, settings), window)
    if document is None:
        return {"document": None, "chart": None, "models": CHART_MODELS}
    models = document["models"]
    groups = list(document["meta"]["channels"])
    chart = charts.grouped_bars(
        "Conversions credited per channel under each model",
        groups,
        list(models),
        {m: models[m]["conversions"] for m in models},
        {m: models[m]["ci"]["conversions"] for m in models if "ci" in models[m]},
    )
    return {"document": document, "chart": chart, "models": list(models), "channels": groups}


def profile(engine: Engine, ws: int, settings: Settings, user_id: str) -> dict[str, Any]:
    found = collected(engine, ws, settings)
    result = profile_of(found, user_id)
    identity = found.graph.users[user_id]
    touches = sorted(found.arrivals.get(identity, []), key=lambda t: t.timestamp)
    conversions = sorted(found.conversions.get(identity, []), key=lambda c: c.timestamp)
    return {"profile": result, "touches": touches, "conversion_list": conversions}
