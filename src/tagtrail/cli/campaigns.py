"""`tagtrail campaigns list|show|stats|create|update`: campaigns on the local store or a running
server.

The figures are those of `/api/campaigns` (the same service functions on a local store, the
API through `--api`), printed as Rich text or, with `--json`, as the API's documents. `create`
and `update` set a campaign's holdout (DESIGN §10), as `POST` and `PATCH /api/campaigns` do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tagtrail.cli.link_views import render_stats
from tagtrail.cli.output import json_option, stdout_console
from tagtrail.cli.targets import answer, backend_options, document_command
from tagtrail.service.backends import Target
from tagtrail.service.options import parse_holdout


@click.group()
def campaigns() -> None:
    """Campaigns: list them, show one, its clicks over every link, and its holdout.

    They act on the store in --data-dir (also while `tagtrail serve` runs on it), or on a
    running server with --api URL --key KEY.
    """


@campaigns.command("list")
@backend_options
@json_option
def list_(target: Target, as_json: bool) -> None:
    """Every campaign, by name, with its links (`--json`: `{"data": [...], "count"}`)."""
    answer(target, as_json, lambda b: b.list_campaigns(), _render_list)


def _render_list(page: dict[str, Any]) -> None:
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


def _render_campaign(campaign: dict[str, Any]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in (
        ("campaign", campaign["name"]),
        ("links", str(campaign["links"])),
        ("default UTMs", _utm(campaign["default_utm"])),
        ("holdout", campaign["holdout"]),
        ("created", campaign["created_at"]),
    ):
        grid.add_row(label, escape(value))
    stdout_console().print(grid)


for _name, _read, _render, _doc in (
    (
        "show",
        lambda backend, name: backend.get_campaign(name),
        _render_campaign,
        "One campaign: its default UTMs and how many links it has.",
    ),
    (
        "stats",
        lambda backend, name: backend.campaign_stats(name),
        lambda figures: render_stats(stdout_console(), figures),
        "Clicks over every link of a campaign: total, human, bot, unique, by day, by recipient.",
    ),
):
    document_command(campaigns, _name, "name", _read, _render, _doc)


_HOLDOUT = (
    "Share of the campaign's recipients held out of its messages, for its lift: 10% or 10 "
    "(0 for none). Applies to the sends made after it."
)


@campaigns.command("create")
@click.argument("name")
@click.option("--holdout", metavar="PCT", help=_HOLDOUT + "  [default: 0%]")
@backend_options
@json_option
def create(name: str, holdout: str | None, target: Target, as_json: bool) -> None:
    """A new campaign (its name is its links' default utm_campaign), with its holdout."""
    share = None if holdout is None else parse_holdout(holdout, "holdout")
    answer(
        target,
        as_json,
        lambda backend: backend.create_campaign(name, holdout=share),
        _render_campaign,
        create=True,
    )


@campaigns.command("update")
@click.argument("name")
@click.option("--holdout", metavar="PCT", required=True, help=_HOLDOUT)
@backend_options
@json_option
def update(name: str, holdout: str, target: Target, as_json: bool) -> None:
    """Change a campaign's holdout (its messages' held-out share; DESIGN §10)."""
    share = parse_holdout(holdout, "holdout")
    answer(target, as_json, lambda b: b.update_campaign(name, holdout=share), _render_campaign)


def _utm(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), ensure_ascii=False) if values else "—"
