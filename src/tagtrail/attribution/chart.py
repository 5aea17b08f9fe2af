"""A self-contained HTML model-comparison chart (inline SVG, no script, no CDN)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
)  # fmt: skip
BAR = 7
GAP = 14
LABEL = 170
WIDTH = 620


def render_html(document: Mapping[str, Any], *, metric: str = "conversions") -> str:
    """One grouped bar chart: for every channel, one bar per model (credit under `metric`)."""
    models: Mapping[str, Any] = document["models"]
    names = list(models)
    channels: list[str] = list(document["meta"]["channels"])
    peak = max(
        [abs(float(models[m][metric].get(c, 0.0))) for m in names for c in channels] + [1e-12]
    )
    group = BAR * len(names) + GAP
    height = group * len(channels) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL + WIDTH + 80}" '
        f'height="{height}" role="img" aria-label="credit per channel and model">'
    ]
    for gi, channel in enumerate(channels):
        y0 = 20 + gi * group
        parts.append(
            f'<text x="{LABEL - 8}" y="{y0 + BAR * len(names) / 2 + 4}" text-anchor="end" '
            f'font-size="12">{escape(channel)}</text>'
        )
        for mi, model in enumerate(names):
            value = float(models[model][metric].get(channel, 0.0))
            w = max(0.0, value) / peak * WIDTH
            parts.append(
                f'<rect x="{LABEL}" y="{y0 + mi * BAR}" width="{w:.1f}" height="{BAR - 1}" '
                f'fill="{PALETTE[mi % len(PALETTE)]}"><title>{escape(model)} · '
                f"{escape(channel)}: {value:,.2f}</title></rect>"
            )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span style="background:{PALETTE[i % len(PALETTE)]}"></span>{escape(m)}</li>'
        for i, m in enumerate(names)
    )
    meta = document["meta"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tagtrail attribution</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}ul{{list-style:none;padding:0;
columns:3}}li span{{display:inline-block;width:12px;height:12px;margin-right:6px}}</style>
</head><body>
<h1>Attribution by model ({escape(metric)})</h1>
<p>{meta["total_conversions"]:,} conversions, value {meta["total_value"]:,.2f},
{meta["n_paths"]:,} paths, lookback {meta["lookback_days"]:g} days.</p>
<ul>{legend}</ul>
{"".join(parts)}
</body></html>
"""
