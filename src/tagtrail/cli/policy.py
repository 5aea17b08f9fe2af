"""Finding the naming policy a command should use: `--policy FILE`, else ./tagtrail.toml."""

from __future__ import annotations

from pathlib import Path

import click

from tagtrail.links import DEFAULT_POLICY, NamingPolicy, load_policy

policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TAGTRAIL_POLICY",
    help="Naming policy file (TOML, section [naming]); default ./tagtrail.toml when present.",
)


def resolve_policy(path: Path | None) -> NamingPolicy:
    if path is not None:
        return load_policy(path)
    default = Path("tagtrail.toml")
    return load_policy(default) if default.is_file() else DEFAULT_POLICY
