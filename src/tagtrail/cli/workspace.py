"""`tagtrail workspace`: the workspace's settings, and its global control group (DESIGN §10).

The document is that of `/api/workspace` (the same service functions on a local store, the
API through `--api`); `--global-holdout` changes it as `PATCH /api/workspace` does.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tagtrail.cli.output import json_option, stdout_console
from tagtrail.cli.targets import answer, backend_options
from tagtrail.service.backends import Target
from tagtrail.service.options import parse_holdout

_GLOBAL_HOLDOUT = (
    "Set the global control group: the share of recipients held out of every campaign, 5% or "
    "5 (0 for none). Applies to the sends made after it."
)


@click.command("workspace")
@click.option("--global-holdout", metavar="PCT", help=_GLOBAL_HOLDOUT)
@backend_options
@json_option
def workspace(global_holdout: str | None, target: Target, as_json: bool) -> None:
    """The workspace's settings (default UTMs, identification, excluded domains, global
    holdout); with --global-holdout, change its global control group first."""
    if global_holdout is None:
        answer(target, as_json, lambda backend: backend.workspace(), _render)
        return
    share = parse_holdout(global_holdout, "global_holdout")
    answer(
        target,
        as_json,
        lambda backend: backend.update_workspace(global_holdout=share),
        _render,
        create=True,
    )


def _render(space: dict[str, Any]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    defaults = space["default_utm"]
    for label, value in (
        ("workspace", space["name"]),
        ("default UTMs", json.dumps(defaults, ensure_ascii=False) if defaults else "—"),
        ("identify", "yes" if space["identify"] else "no"),
        ("excluded domains", ", ".join(space["excluded_domains"]) or "—"),
        ("global holdout", space["global_holdout"]),
        ("created", space["created_at"]),
    ):
        grid.add_row(label, escape(value))
    stdout_console().print(grid)
