"""`tagtrail lift`: did the campaign cause the conversions? Its holdout against its recipients,
beside the credit each attribution model gives it (DESIGN §10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tagtrail.cli.output import emit_json, stderr_console, stdout_console
from tagtrail.cli.targets import backend_options, open_local_store
from tagtrail.client import Client
from tagtrail.lift.document import summary_line
from tagtrail.service.backends import Target, utcnow
from tagtrail.service.lift import LiftQuery, file_lift, lift_document
from tagtrail.service.options import parse_duration, parse_holdout


def _percent(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.2f}%"


def _points(x: float) -> str:
    return f"{x * 100:+.2f} pts"


def render(document: dict[str, Any]) -> None:
    """The lift for people: both groups, the lift with its intervals, then the credit."""
    console = stdout_console()
    level = f"{document['level'] * 100:g}%"
    groups = Table(title=f"Lift of {document['campaign']} ({document['window_days']:g}-day window)")
    for name in ("group", "recipients", "converters", "rate", "value"):
        groups.add_column(name, justify="left" if name == "group" else "right")
    for name in ("treatment", "control"):
        g = document[name]
        groups.add_row(
            name,
            f"{g['recipients']:,}",
            f"{g['converters']:,}",
            _percent(g["rate"]),
            f"{g['value']:,.2f}",
        )
    console.print(groups)
    lift = document["lift"]
    low, high = lift["absolute_ci"]
    console.print(
        f"absolute lift  {_points(lift['absolute'])} ({level} CI {_points(low)} to {_points(high)})"
    )
    if lift["relative"] is not None:
        rel = lift["relative_ci"]
        span = "" if rel is None else f" ({level} CI {_percent(rel[0])} to {_percent(rel[1])})"
        console.print(f"relative lift  {_percent(lift['relative'])}{span}")
    p = lift["p_value"]
    console.print(f"p-value        {'–' if p is None else format(p, '.4g')}")
    console.print(f"P(better)      {lift['prob_better']:.4f}")
    console.print(f"MDE (80% power) {_points(document['mde_absolute'] or 0.0)}")
    srm = document["srm"]
    if srm["p_value"] is not None:
        verdict = "MISMATCH" if srm["mismatch"] else "ok"
        console.print(
            f"sample ratio   {srm['observed_control_share']:.4f} held out "
            f"(expected {srm['expected_control_share']:.4f}, p = {srm['p_value']:.3g}) {verdict}"
        )
    matching = document.get("matching")
    if matching:
        console.print(
            f"matched        {matching['matched']:,} of {matching['recipients']:,} recipients "
            "to collected users"
        )
    console.print(summary_line(document))
    credit = Table(title="Conversions credited to the campaign by each model")
    credit.add_column("model")
    credit.add_column("attributed", justify="right")
    for model, value in document["attributed"].items():
        credit.add_row(model, f"{value:,.1f}")
    console.print(credit)
    warn = stderr_console()
    for message in document["warnings"]:
        warn.print(f"[yellow]Warning:[/] {message}", markup=True, highlight=False)


_WINDOW = "A recipient converts within this time after their first send (7d, 48h…)."
_LEVEL = "Confidence level of the intervals (and of the MDE's test)."
_HOLDOUT = (
    "The share the assignment meant to hold out (10% or 10), for the sample-ratio check (on "
    "the store: the campaign's and the workspace's holdout unless given)."
)
_SENDS = "Sends CSV: recipient,campaign,message,sent_at,held_out (held_out true/false)."
_EVENTS = "With --sends: the §7 events file (user_id = recipient; every conversion is the goal)."
_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("lift")
@click.option("--campaign", required=True, help="The campaign (its name, as in the sends).")
@click.option("--goal", help="Without --sends: the goal whose conversions count (`goals`).")
@click.option("--sends", type=_FILE, help=_SENDS)
@click.option("--events", type=_FILE, help=_EVENTS)
@click.option("--window", default="7d", show_default=True, help=_WINDOW)
@click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.95, help=_LEVEL)
@click.option("--holdout", help=_HOLDOUT)
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print the §10 JSON document on stdout.")
def lift(
    campaign: str,
    goal: str | None,
    target: Target,
    sends: Path | None,
    events: Path | None,
    window: str,
    level: float,
    holdout: str | None,
    as_json: bool,
) -> None:
    """Measure what a campaign caused: its treated recipients against its held-out ones.

    Prints both groups, the absolute and relative lift with their intervals, the p-value, the
    probability that the campaign is better, the incremental conversions, the sample-ratio
    check, the minimum detectable effect, and the conversions each attribution model credits
    to the campaign over the same recipients. docs/lift.md defines every figure.
    """
    seconds = parse_duration(window, "--window")
    holdout = None if holdout is None else parse_holdout(holdout, "holdout")
    if sends is None and events is None:
        if not goal:
            raise click.UsageError("give --goal GOAL (on the store) or --sends and --events")
        document = _from_store(target, LiftQuery(campaign, goal, seconds, level, holdout))
    elif sends is None or events is None:
        raise click.UsageError("give both --sends SENDS.csv and --events EVENTS.csv")
    elif goal is not None:
        raise click.UsageError("--goal selects the store's conversions: drop --sends/--events")
    else:
        document = file_lift(
            sends, events, campaign=campaign, window=seconds, level=level, holdout=holdout
        ).document
    if as_json:
        emit_json(document)
        return
    render(document)


def _from_store(target: Target, query: LiftQuery) -> dict[str, Any]:
    """The lift of a campaign of the local store, or of the --api server."""
    if target.api is not None and target.key is not None:
        with Client(target.api, target.key) as client:
            return client.campaign_lift(query.campaign, query.params())
    engine, workspace_id = open_local_store(target.settings)
    try:
        return lift_document(engine, workspace_id, target.settings.secret(), query, now=utcnow())
    finally:
        engine.dispose()
