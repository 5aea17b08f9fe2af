"""`tagtrail goals add|list`: conversion goals (track event names, optional revenue property)."""

from __future__ import annotations

import click

from tagtrail.cli.output import emit_json, json_option
from tagtrail.cli.targets import backend_options, open_collect
from tagtrail.service.backends import Target


@click.group()
def goals() -> None:
    """Conversion goals: track events that convert (on --data-dir, or --api with --key)."""


@goals.command()
@click.argument("name")
@click.option("--revenue", help="The event property that holds the conversion's value.")
@backend_options
@json_option
def add(name: str, revenue: str | None, target: Target, as_json: bool) -> None:
    """Add the goal NAME (a track event name), or change its --revenue property."""
    with open_collect(target, create=True) as backend:
        goal = backend.add_goal(name, revenue)
    if as_json:
        emit_json(goal)
        return
    worth = f", valued by its {goal['revenue']!r} property" if goal["revenue"] else ""
    click.echo(f"goal {goal['event']!r}{worth}")


@goals.command("list")
@backend_options
@json_option
def list_(target: Target, as_json: bool) -> None:
    """List the goals (`--json`: `{"data": [{"event", "revenue"}]}`)."""
    with open_collect(target) as backend:
        found = backend.goals()
    if as_json:
        emit_json(found)
        return
    if not found["data"]:
        click.echo("no goals yet: `tagtrail goals add 'Order Completed' --revenue revenue`")
    for goal in found["data"]:
        click.echo(f"{goal['event']}\t{goal['revenue'] or '-'}")
