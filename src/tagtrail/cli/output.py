"""What every command shares for printing: JSON on stdout, Rich for people, errors on stderr."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tagtrail.errors import TagtrailError, error_document

#: Option shared by every command.
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout instead of text."
)


def stdout_console() -> Console:
    """A console for people on stdout (colour only on a terminal; never wraps URLs)."""
    return Console(soft_wrap=True, highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def emit_json(value: Any) -> None:
    """Print one JSON document on stdout, keys in the order given; never Infinity or NaN
    (not JSON: a non-finite number is a bug, raised as ValueError, not printed)."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False))


def report_error(message: str, *, hint: str | None, as_json: bool, status: int) -> None:
    """Say what went wrong: JSON on stdout with --json, else one or two lines on stderr."""
    if as_json:
        emit_json(error_document(message, hint=hint, status=status))
        return
    console = stderr_console()
    console.print(f"[bold red]Error:[/] {message}", markup=True, highlight=False)
    if hint:
        console.print(f"[yellow]Hint:[/] {hint}", markup=True, highlight=False)


def report_tagtrail_error(exc: TagtrailError, *, as_json: bool) -> None:
    report_error(exc.message, hint=exc.hint, as_json=as_json, status=1)


def progress_bar(label: str, console: Console, *, disable: bool = False) -> Progress:
    """A transient bar on `console` (`label`, bar, done/total, time), shown on terminals only."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=disable or not console.is_terminal,
    )
