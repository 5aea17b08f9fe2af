"""Rendering link-builder results for people."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.markup import escape

from tagtrail.links import Issue

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_LABEL = {"error": "error", "warning": "warning", "info": "info"}


def render_issues(console: Console, issues: Sequence[Issue]) -> None:
    """One line per issue (level, code, field, message) and the suggestion under it."""
    for item in issues:
        style = _STYLE[item.level]
        field = f" [dim]{item.field}[/]" if item.field else ""
        console.print(
            f"  [{style}]{_LABEL[item.level]:<7}[/] [bold]{item.code}[/]{field}: "
            f"{escape(item.message)}"
        )
        if item.suggestion:
            console.print(f"          [green]→ {escape(item.suggestion)}[/]")


def suggested_command(
    command: str, given: Mapping[str, str | None], issues: Sequence[Issue]
) -> str | None:
    """The command line with every field the issues know a fix for replaced, or None if none."""
    fixed = dict(given)
    changed = False
    ordered = [i for i in issues if i.level == "info"] + [i for i in issues if i.level != "info"]
    for item in ordered:
        if item.fix is None or item.field is None or item.field not in fixed:
            continue
        if fixed[item.field] != item.fix:
            fixed[item.field] = item.fix
            changed = changed or item.level != "info"
    if not changed:
        return None
    words = command.split()
    for key, value in fixed.items():
        if value is not None:
            words += [f"--{key.replace('_', '-')}", value]
    return shlex.join(words)
