"""`tagtrail campaigns list|show|stats`: campaigns on the local store or a running server.

The figures are those of `/api/campaigns` (the same service functions on a local store, the
API through `--api`), printed as Rich text or, with `--json`, as the API's documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tagtrail.cli.backend import Target, backend_options, open_backend
from tagtrail.cli.link_views import render_stats
from tagtrail.cli.output import emit_json, json_option, stdout_console


@click.group()
def campaigns() -> None:
    """Campaigns: list them, show one, and its clicks over every link.

    They act on the store in --data-dir (also while `tagtrail serve` runs on it), or on a
    running server with --api URL --key KEY.
    """


@campaigns.command("list")
@backend_options
@json_option
def list_(target: Target, as_json: bool) -> None:
    """Every campaign, by name, with its links (`--json`: `{"data": [...], "count"}`)."""
    with open_backend(target) as backend:
        page = backend.list_campaigns()
    if as_json:
        emit_json(page)
        return
    out = stdout_console()
    if not page["data"]:
        out.print("No campaigns yet: `tagtrail links create --campaign NAME` makes one.")
        return
    table = Table(box=None, header_style="bold")
    for name, justify in (("campaign", "left"), ("links", "right"), ("default UTMs", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for campaign in page["data"]:
        table.add_row(
            escape(campaign["name"]), str(campaign["links"]), escape(_utm(campaign["default_utm"]))
        )
    out.print(table)
    out.print(f"{page['count']} campaign(s)")


@campaigns.command()
@click.argument("name")
@backend_options
@json_option
def show(name: str, target: Target, as_json: bool) -> None:
    """One campaign: its default UTMs and how many links it has."""
    with open_backend(target) as backend:
        campaign = backend.get_campaign(name)
    if as_json:
        emit_json(campaign)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in (
        ("campaign", campaign["name"]),
        ("links", str(campaign["links"])),
        ("default UTMs", _utm(campaign["default_utm"])),
        ("created", campaign["created_at"]),
    ):
        grid.add_row(label, escape(value))
    stdout_console().print(grid)


@campaigns.command()
@click.argument("name")
@backend_options
@json_option
def stats(name: str, target: Target, as_json: bool) -> None:
    """Clicks over every link of a campaign: total, human, bot, unique, by day, by recipient."""
    with open_backend(target) as backend:
        figures = backend.campaign_stats(name)
    if as_json:
        emit_json(figures)
    else:
        render_stats(stdout_console(), figures)


def _utm(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), ensure_ascii=False) if values else "—"
