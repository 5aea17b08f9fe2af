"""`write_report`: the dashboard's charts and tables as one self-contained HTML file (styles
inline, charts as SVG, no script), from a store's engine and workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tagtrail.server.dashboard import views
from tagtrail.server.dashboard.data import Window
from tagtrail.server.dashboard.render import render, stylesheet
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
    return context


def render_report(engine: Engine, workspace_id: int, settings: Settings, window: Window) -> str:
    return render_html(report_context(engine, workspace_id, settings, window), window)


def render_html(context: dict[str, Any], window: Window) -> str:
    return render(
        "report.html",
        inline_css=stylesheet(),
        window=window,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **context,
    )


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


def write_report(
    path: Path, engine: Engine, workspace_id: int, settings: Settings, window: Window
) -> None:
    path.write_text(render_report(engine, workspace_id, settings, window), encoding="utf-8")
