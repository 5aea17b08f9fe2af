"""`tagtrail --help` lists every command from its summary, without importing any command."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from tagtrail.cli import COMMANDS, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_start_of_its_command_help(name: str) -> None:
    _, summary = COMMANDS[name]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.help is not None
    help_text = " ".join(command.help.split())
    assert help_text.startswith(summary.rstrip(".")), (name, summary, help_text[:200])
    assert len(summary) <= 90, "a summary fits on one line of the listing"


def test_the_listing_names_every_command_and_imports_none_of_them() -> None:
    probe = (
        "import sys\n"
        "from tagtrail.cli import main\n"
        "code = main(['--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('tagtrail.cli.') "
        "and m not in ('tagtrail.cli.output',))\n"
        "print('LOADED', loaded)\n"
        "heavy = ('duckdb', 'statsmodels', 'granian')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    listing = done.stdout.split("Commands:", 1)[1]
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name}  " in listing or f"  {name} " in listing, name
        assert summary.split()[0] in listing
    assert "LOADED []" in done.stdout, done.stdout.splitlines()[-1]
    assert "HEAVY []" in done.stdout, done.stdout.splitlines()[-1]
