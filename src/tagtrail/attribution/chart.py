"""A self-contained HTML model-comparison chart (inline SVG, no script, no CDN): the
dashboard's grouped bar chart (`tagtrail.charts`), with intervals when `--ci` made them."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from tagtrail.charts import grouped_bars

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}"
    "figure.chart{margin:0}figure.chart svg{width:100%;height:auto}"
    "figure.chart text{font-size:11px}figcaption{font-weight:600}.ci{stroke:#222}"
    ".legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;padding:0}"
    ".swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem}"
    "table{border-collapse:collapse;margin-top:1em}th,td{padding:.3rem .6rem;text-align:left}"
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
)


def render_html(document: Mapping[str, Any], *, metric: str = "conversions") -> str:
    """One grouped bar chart: for every channel, one bar per model (credit under `metric`)."""
    models: Mapping[str, Any] = document["models"]
    chart = grouped_bars(
        f"Credit per channel under each model ({metric})",
        list(document["meta"]["channels"]),
        list(models),
        {m: models[m][metric] for m in models},
        {m: models[m]["ci"][metric] for m in models if metric in models[m].get("ci", {})},
    )
    meta = document["meta"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tagtrail attribution</title>
<style>{_STYLE}</style>
</head><body>
<h1>Attribution by model ({escape(metric)})</h1>
<p>{meta["total_conversions"]:,} conversions, value {meta["total_value"]:,.2f},
{meta["n_paths"]:,} paths, lookback {meta["lookback_days"]:g} days.</p>
{chart}
</body></html>
"""
