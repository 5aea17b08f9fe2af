"""Finding the naming policy a command should use: `--policy FILE`, else ./tagtrail.toml."""

from __future__ import annotations

from pathlib import Path

import click

from tagtrail.links import DEFAULT_POLICY, NamingPolicy, load_policy
from tagtrail.settings import load_settings

policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Naming policy file (TOML, section [naming]); default ./tagtrail.toml when present.",
)


def resolve_policy(path: Path | None) -> NamingPolicy:
    """`--policy`, else `TAGTRAIL_POLICY` (the settings), else ./tagtrail.toml if present."""
    path = path or load_settings().policy
    if path is not None:
        return load_policy(path)
    default = Path("tagtrail.toml")
    return load_policy(default) if default.is_file() else DEFAULT_POLICY
