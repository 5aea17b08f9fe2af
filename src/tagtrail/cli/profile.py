"""`tagtrail profile USER`: a user's first- and last-touch profile, on the local store or a
running server (`--api`)."""

from __future__ import annotations

import click
from rich.table import Table

from tagtrail.cli.output import emit_json, json_option, stdout_console
from tagtrail.cli.targets import backend_options, open_collect
from tagtrail.service.backends import Target

_ROWS = (
    ("channel", "channel"),
    ("source", "utm_source"),
    ("medium", "utm_medium"),
    ("campaign", "utm_campaign"),
    ("content", "utm_content"),
    ("term", "utm_term"),
    ("referrer", "referrer"),
    ("at", "touch_at"),
)


@click.command()
@click.argument("user")
@backend_options
@json_option
def profile(user: str, target: Target, as_json: bool) -> None:
    """Show USER's profile: first touch (initial_*) and last non-direct touch (last_*) by event
    time, over every device and alias merged into the user (`--json`: the API's answer)."""
    with open_collect(target) as backend:
        found = backend.profile(user)
    if as_json:
        emit_json(found)
        return
    console = stdout_console()
    console.print(
        f"[bold]{found['user_id']}[/] (identity {found['identity']}): "
        f"{found['touches']} touches, {found['conversions']} conversions"
    )
    table = Table("", "initial (first touch)", "last (last non-direct)")
    for label, name in _ROWS:
        first = "initial_" + name
        last = "last_" + name
        table.add_row(label, str(found.get(first) or "-"), str(found.get(last) or "-"))
    console.print(table)
    if found["anonymous_ids"]:
        console.print("devices: " + ", ".join(found["anonymous_ids"]), markup=False)
    for conflict in found["conflicts"]:
        console.print(
            f"refused merge: {conflict['kind']} {conflict['id']} stays with {conflict['kept']}",
            markup=False,
        )
