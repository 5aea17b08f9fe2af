"""`render_html` of `report_context`: the dashboard's charts and tables as one self-contained
HTML file (styles inline, charts as SVG, no script), from a store's engine and workspace;
`report_document`: the same figures as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from tagtrail.html.render import render, stylesheet
from tagtrail.service import lift_view, views
from tagtrail.service.reports import Window
from tagtrail.settings import Settings


def report_context(
    engine: Engine, workspace_id: int, settings: Settings, window: Window
) -> dict[str, Any]:
    """Every figure the report shows, read once (the dashboard's views, journeys in-process)."""
    context = {
        **views.overview(engine, workspace_id, settings, window),
        **views.campaigns(engine, workspace_id, settings, window),
        **views.channels(engine, workspace_id, settings, window),
    }
    attribution = views.attribution(engine, workspace_id, settings, window)
    context["attribution_chart"] = attribution["chart"]
    context["document"] = attribution["document"]
    context["lifts"] = _lifts(engine, workspace_id, settings, window)
    return context


def render_html(context: dict[str, Any], window: Window) -> str:
    return render(
        "report.html",
        inline_css=stylesheet(),
        window=window,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **context,
    )


def _lifts(
    engine: Engine, workspace_id: int, settings: Settings, window: Window
) -> list[dict[str, Any]]:
    """The lift (first goal, 7-day window) of the campaigns with a holdout: the one of
    `--campaign`, or every one (up to ten)."""
    names = lift_view.held_out_campaigns(engine, workspace_id)
    if window.campaign is not None:
        names = [n for n in names if n == window.campaign]
    pages = [
        lift_view.lift_page(engine, workspace_id, settings, name, goal=None, window_days=7.0)
        for name in names
    ]
    return [page for page in pages if "lift" in page]


def report_document(context: dict[str, Any], window: Window) -> dict[str, Any]:
    """`tagtrail report --json`: the report's figures (docs/cli.md has the shape)."""
    return {
        "window": {
            "from": window.start.isoformat() if window.start else None,
            "to": window.end.isoformat() if window.end else None,
            "campaign": window.campaign,
        },
        "overview": {
            name: context.get(name) for name in ("human", "bot", "conversions", "revenue")
        },
        "campaigns": [{k: v for k, v in row.items() if k != "key"} for row in context["campaigns"]],
        "links": [dict(row) for row in context["links"]],
        "channels": context.get("channels") or {},
        "attribution": context["document"],
    }
