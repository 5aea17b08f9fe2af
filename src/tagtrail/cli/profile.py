"""`tagtrail profile USER`: a user's first- and last-touch profile, on the local store or a
running server (`--api`). `CollectBackend` is shared with `goals`, `import` and `export`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import click
from rich.table import Table

from tagtrail.cli.output import emit_json, json_option, stdout_console
from tagtrail.client import Client
from tagtrail.collect import journey_csv
from tagtrail.service.backends import Target, backend_options, open_local_store, utcnow
from tagtrail.service.goals import add_goal, goal_json, list_goals
from tagtrail.service.journeys import load_collected, profile_of


class CollectBackend:
    """The local store (`client` None) or a server's API: the same JSON either way."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.client: Client | None = None
        if target.api is not None and target.key is not None:
            self.client = Client(target.api, target.key)
        else:
            self.engine, self.workspace_id = open_local_store(target.settings)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        else:
            self.engine.dispose()

    def _collected(self) -> Any:
        settings = self.target.settings
        return load_collected(
            self.engine,
            self.workspace_id,
            timeout=timedelta(minutes=settings.session_timeout_minutes),
            new_session_on_campaign_change=settings.session_on_campaign_change,
        )

    def profile(self, user_id: str) -> dict[str, Any]:
        if self.client is not None:
            return self.client.profile(user_id)
        return profile_of(self._collected(), user_id)

    def goals(self) -> dict[str, Any]:
        if self.client is not None:
            return self.client.goals()
        return {"data": [goal_json(g) for g in list_goals(self.engine, self.workspace_id)]}

    def add_goal(self, event: str, revenue: str | None) -> dict[str, Any]:
        if self.client is not None:
            return self.client.add_goal(event, revenue)
        return goal_json(add_goal(self.engine, self.workspace_id, event, revenue, now=utcnow()))

    def journeys_csv(self) -> str:
        if self.client is not None:
            return self.client.journeys_csv()
        return journey_csv(self._collected().journey_rows())


@contextmanager
def open_collect(target: Target) -> Iterator[CollectBackend]:
    backend = CollectBackend(target)
    try:
        yield backend
    finally:
        backend.close()


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
