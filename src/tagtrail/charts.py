"""Server-rendered inline SVG charts (no script, no CDN), shared by the dashboard, the HTML
report and `tagtrail attribute --html`. Each chart is a `<figure>` with an SVG that has
`role="img"`, an `aria-label` and a `<title>`, and a table of the same numbers beside it (the
accessible fallback)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float, ...]
    color: str


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(r[0])}</th>'
        + "".join(f"<td>{escape(c)}</td>" for c in r[1:])
        + "</tr>"
        for r in rows
    )
    return (
        f'<details class="data"><summary>Table: {escape(caption)}</summary>'
        f'<div class="scroll"><table><thead><tr>{cells}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></details>"
    )


def _legend(series: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{color}"></span>{escape(name)}</li>'
        for name, color in series
    )
    return f'<ul class="legend">{items}</ul>'


def _figure(
    title: str, legend: Sequence[tuple[str, str]], svg: Sequence[str], table: str
) -> Markup:
    """A chart's `<figure>`: caption, legend, the SVG and its table."""
    caption = f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
    return Markup(caption + _legend(legend) + "".join(svg) + table + "</figure>")


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Vertical bars per label (a day), the series stacked (human below bot)."""
    if not labels:
        return Markup(f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
                      '<p class="empty">Nothing in this period yet.</p></figure>')  # fmt: skip
    width, height, left, bottom, top = 640, 220, 44, 28, 10
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    peak = max([*totals, 1.0])
    slot = (width - left - 8) / len(labels)
    bar = max(1.0, slot * 0.7)
    plot = height - bottom - top
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    ]
    for tick in (0.0, 0.5, 1.0):
        y = top + plot * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_num(peak * tick)}</text>'
        )
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        base = 0.0
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = plot * value / peak
            y = top + plot * (1 - (base + value) / peak)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.color}"><title>{escape(label)}: {_num(value)} '
                f"{escape(s.name)}</title></rect>"
            )
            base += value
        if i % step == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                f"{escape(label[5:] if len(label) == 10 else label)}</text>"
            )
    parts.append("</svg>")
    rows = [[label, *(_num(s.values[i]) for s in series)] for i, label in enumerate(labels)]
    legend = [(s.name, s.color) for s in series]
    return _figure(title, legend, parts, _table(title, ["day", *(s.name for s in series)], rows))


def grouped_bars(
    title: str,
    groups: Sequence[str],
    names: Sequence[str],
    values: Mapping[str, Mapping[str, float]],
    intervals: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
) -> Markup:
    """Horizontal bars: for each group (a channel), one bar per name (a model), with an
    interval whisker when `intervals[name][group]` is `[low, high]`."""
    if not groups or not names:
        return Markup(f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
                      '<p class="empty">Nothing to compare yet.</p></figure>')  # fmt: skip
    bar, gap, label_w, width = 9, 12, 130, 640
    highs = [
        max(float(values[n].get(g, 0.0)), *(intervals or {}).get(n, {}).get(g, [0.0]))
        for n in names
        for g in groups
    ]
    peak = max([*highs, 1e-9])
    span = width - label_w - 60
    group_h = bar * len(names) + gap
    height = group_h * len(groups) + 24
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    ]
    for gi, group in enumerate(groups):
        y0 = 10 + gi * group_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + bar * len(names) / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(group)}</text>'
        )
        for ni, name in enumerate(names):
            value = float(values[name].get(group, 0.0))
            y = y0 + ni * bar
            color = PALETTE[ni % len(PALETTE)]
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{span * max(value, 0) / peak:.1f}" '
                f'height="{bar - 1}" fill="{color}"><title>{escape(group)}, {escape(name)}: '
                f"{_num(value)}</title></rect>"
            )
            ci = (intervals or {}).get(name, {}).get(group)
            if ci:
                x1, x2 = (label_w + span * max(v, 0) / peak for v in ci[:2])
                ym = y + (bar - 1) / 2
                parts.append(
                    f'<line class="ci" x1="{x1:.1f}" x2="{x2:.1f}" y1="{ym}" y2="{ym}"/>'
                    f'<line class="ci" x1="{x1:.1f}" x2="{x1:.1f}" y1="{y}" y2="{y + bar - 1}"/>'
                    f'<line class="ci" x1="{x2:.1f}" x2="{x2:.1f}" y1="{y}" y2="{y + bar - 1}"/>'
                )
    parts.append("</svg>")
    rows = []
    for group in groups:
        cells = [group]
        for name in names:
            cell = _num(float(values[name].get(group, 0.0)))
            ci = (intervals or {}).get(name, {}).get(group)
            if ci:
                cell += f" [{_num(ci[0])}–{_num(ci[1])}]"
            cells.append(cell)
        rows.append(cells)
    legend = [(n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)]
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        + _legend(legend)
        + "".join(parts)
        + _table(title, ["channel", *names], rows)
        + "</figure>"
    )


@dataclass(frozen=True, slots=True)
class Band:
    """A line with an interval around it: `values[i]` between `lows[i]` and `highs[i]`."""

    name: str
    values: tuple[float, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    color: str


def _percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def rate_bands(title: str, labels: Sequence[str], bands: Sequence[Band]) -> Markup:
    """Lines of rates (fractions) by label (day since send), each in a shaded interval band."""
    if not labels or not bands:
        return Markup(f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
                      '<p class="empty">Nothing to show yet.</p></figure>')  # fmt: skip
    width, height, left, bottom, top, right = 640, 240, 56, 28, 10, 12
    peak = max([*(h for b in bands for h in b.highs), 1e-9])
    plot_w, plot_h = width - left - right, height - bottom - top
    n = len(labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    ]
    for tick in (0.0, 0.5, 1.0):
        ty = y(peak * tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{_percent(peak * tick)}</text>"
        )
    step = max(1, n // 10)
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>'
            )
    for band in bands:
        upper = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(band.highs))
        lower = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(band.lows))))
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(band.values))
        parts.append(
            f'<polygon class="band" points="{upper} {lower}" fill="{band.color}" '
            f'fill-opacity="0.18" stroke="none"><title>{escape(band.name)}: interval</title>'
            "</polygon>"
            f'<polyline points="{line}" fill="none" stroke="{band.color}" stroke-width="2">'
            f"<title>{escape(band.name)}</title></polyline>"
        )
        for i, v in enumerate(band.values):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{band.color}">'
                f"<title>{escape(band.name)}, {escape(labels[i])}: {_percent(v)} "
                f"({_percent(band.lows[i])}–{_percent(band.highs[i])})</title></circle>"
            )
    parts.append("</svg>")
    rows = [
        [
            label,
            *(
                f"{_percent(b.values[i])} ({_percent(b.lows[i])}–{_percent(b.highs[i])})"
                for b in bands
            ),
        ]
        for i, label in enumerate(labels)
    ]
    legend = [(b.name, b.color) for b in bands]
    return _figure(title, legend, parts, _table(title, ["day", *(b.name for b in bands)], rows))
