"""How `tagtrail links …` shows links, stats and import results to people (Rich)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagtrail.cli.render import render_issues
from tagtrail.client import issue_from_json

_EIGHTHS = " ▏▎▍▌▋▊▉"
_BAR_WIDTH = 30
_CHART_DAYS = 31


def render_created(out: Console, err: Console, link: Mapping[str, Any]) -> None:
    """The short URL on stdout; what it leads to, its channel and the builder's issues on stderr."""
    out.print(link["short_url"], markup=False)
    if link.get("tracked") is False:  # a destination on one of the excluded domains
        err.print(
            f"[yellow]Not tracked:[/] {escape(str(link.get('excluded_domain')))} is excluded "
            "from click tracking, so no short link was made; use the URL above as it is."
        )
    else:
        err.print(f"[bold]Created[/] {escape(link['code'])} → {escape(link['tracked_url'])}")
    details = [f"channel: {link['channel'] or 'unknown'}"]
    if link.get("campaign"):
        details.append(f"campaign: {link['campaign']}")
    if link.get("tags"):
        details.append("tags: " + ", ".join(link["tags"]))
    err.print("  " + escape(" · ".join(details)))
    render_issues(err, [issue_from_json(i) for i in link.get("issues") or []])
    for warning in link.get("warnings") or []:
        err.print(
            f"[yellow]Warning:[/] {escape(warning['code'])} {escape(warning['message'])}",
            highlight=False,
        )
        if warning.get("hint"):
            err.print(f"  → {escape(warning['hint'])}", highlight=False)


def render_link(out: Console, link: Mapping[str, Any]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows = [
        ("code", link["code"]),
        ("short URL", link["short_url"]),
        ("destination", link["destination"]),
        ("tracked URL", link["tracked_url"]),
        ("channel", link["channel"] or "unknown"),
        ("campaign", link["campaign"] or "-"),
        ("UTMs", ", ".join(f"{k}={v}" for k, v in sorted(link["utm"].items())) or "-"),
        ("tags", ", ".join(link["tags"]) or "-"),
        ("state", _state(link, markup=False)),
        ("forward query", "yes" if link["forward_query"] else "no"),
        ("honeypot", "yes" if link["honeypot"] else "no"),
        ("expires", link["expires_at"] or "never"),
        ("created", link["created_at"]),
    ]
    for name, value in rows:
        grid.add_row(name, escape(str(value)))
    out.print(grid)
    issues = link.get("issues") or []
    if issues:
        out.print("[bold]issues[/]")
        render_issues(out, [issue_from_json(i) for i in issues])


def render_list(out: Console, err: Console, page: Mapping[str, Any], offset: int) -> None:
    links: Sequence[Mapping[str, Any]] = page["data"]
    if not links:
        err.print("No links." if page["count"] == 0 else f"No links after {offset}.")
        return
    if not out.is_terminal:  # a file or a pipe: whole lines, nothing cut
        out.width = 10_000
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("code", no_wrap=True, min_width=max(len(x["code"]) for x in links))
    table.add_column("short URL", no_wrap=True, min_width=max(len(x["short_url"]) for x in links))
    table.add_column("destination", overflow="ellipsis", no_wrap=True)
    table.add_column("campaign", overflow="ellipsis", no_wrap=True, min_width=8)
    table.add_column("tags", overflow="ellipsis", no_wrap=True, min_width=4)
    table.add_column("state", no_wrap=True, min_width=8)
    for link in links:
        table.add_row(
            escape(link["code"]),
            escape(link["short_url"]),
            escape(link["destination"]),
            escape(link["campaign"] or "-"),
            escape(", ".join(link["tags"]) or "-"),
            _state(link),
        )
    out.print(table)
    err.print(f"{offset + 1}-{offset + len(links)} of {page['count']} links")


def render_stats(out: Console, stats: Mapping[str, Any]) -> None:
    """A summary line, the by-day table and bar chart, and who clicked how often."""
    title = stats.get("code", stats.get("campaign", ""))
    out.print(
        f"[bold]{escape(str(title))}[/]  total [bold]{stats['total']}[/] · "
        f"human [green]{stats['human']}[/] · bot [yellow]{stats['bot']}[/] · "
        f"unique [cyan]{stats['unique']}[/]"
    )
    days: Sequence[Mapping[str, Any]] = stats["by_day"]
    if not days:
        out.print("No clicks yet.")
        return
    table = Table(title="by day", title_justify="left", box=None, header_style="bold")
    for name in ("day", "total", "human", "bot"):
        table.add_column(name, justify="left" if name == "day" else "right")
    for day in days:
        table.add_row(day["day"], *(str(day[k]) for k in ("total", "human", "bot")))
    out.print(table)
    out.print("[bold]human clicks by day[/]")
    for line in bar_chart([(d["day"], int(d["human"])) for d in days[-_CHART_DAYS:]]):
        out.print(line, markup=False)
    people: Sequence[Mapping[str, Any]] = stats["recipients"]
    if people:
        who = Table(title="recipients", title_justify="left", box=None, header_style="bold")
        who.add_column("recipient", overflow="fold")
        who.add_column("clicks", justify="right")
        who.add_column("human", justify="right")
        for person in people:
            who.add_row(
                escape(str(person["recipient"])), str(person["clicks"]), str(person["human"])
            )
        out.print(who)


def bar_chart(values: Sequence[tuple[str, int]], width: int = _BAR_WIDTH) -> list[str]:
    """One line per (label, value): a bar of block characters (eighths) and the value."""
    top = max((v for _, v in values), default=0)
    lines = []
    for name, value in values:
        eighths = round(value * width * 8 / top) if top else 0
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        lines.append(f"{name}  {bar:<{width}}  {value}")
    return lines


def render_import(out: Console, err: Console, result: Mapping[str, Any]) -> None:
    for link in result["created"]:
        out.print(link.get("short_url", link.get("code", "")), markup=False)
    for item in result["errors"]:
        err.print(f"[bold red]line {item['line']}:[/] {escape(str(item['error']))}")
        render_issues(err, [issue_from_json(i) for i in item.get("issues") or []])
    if result.get("ignored_columns"):
        err.print("[yellow]ignored columns:[/] " + escape(", ".join(result["ignored_columns"])))
    summary = import_summary(result)
    style = "bold red" if summary["failed"] else "bold green"
    err.print(
        f"[{style}]{summary['created']} of {summary['rows']} rows imported[/]"
        + (f", {summary['failed']} failed" if summary["failed"] else "")
    )


def import_summary(result: Mapping[str, Any]) -> dict[str, int]:
    created, failed = len(result["created"]), len(result["errors"])
    return {"rows": created + failed, "created": created, "failed": failed}


def _state(link: Mapping[str, Any], *, markup: bool = True) -> str:
    if link["disabled"]:
        return "[red]disabled[/]" if markup else "disabled"
    if link.get("expires_at"):
        return f"expires {link['expires_at']}"
    return "[green]active[/]" if markup else "active"
