"""`write_report`: the dashboard's charts and tables as one self-contained HTML file (styles
inline, charts as SVG, no script), from a store's engine and workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from tagtrail.html.render import render, stylesheet
from tagtrail.service import views
from tagtrail.service.reports import Window
from tagtrail.settings import Settings


def render_report(engine: Engine, workspace_id: int, settings: Settings, window: Window) -> str:
    context = {
        **views.overview(engine, workspace_id, settings, window),
        **views.campaigns(engine, workspace_id, settings, window),
        **views.channels(engine, workspace_id, settings, window),
    }
    attribution = views.attribution(engine, workspace_id, settings, window)
    context["attribution_chart"] = attribution["chart"]
    context["document"] = attribution["document"]
    return render(
        "report.html",
        inline_css=stylesheet(),
        window=window,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **context,
    )


def write_report(
    path: Path, engine: Engine, workspace_id: int, settings: Settings, window: Window
) -> None:
    path.write_text(render_report(engine, workspace_id, settings, window), encoding="utf-8")
