"""The Jinja2 environment of the dashboard's templates (autoescaped)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tagtrail.links import DEFAULT_POLICY

HERE = Path(__file__).parent
STATIC = HERE / "static"


def _num(value: Any) -> str:
    number = float(value or 0)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.globals["presets"] = DEFAULT_POLICY.presets  # the new-link form's choices
    return env


def stylesheet() -> str:
    return (STATIC / "dashboard.css").read_text(encoding="utf-8")


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
