"""The docs cover what ships: every command and option, every issue code, preset and check."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tagtrail.channels import CHANNELS
from tagtrail.check import CHECK_NAMES
from tagtrail.cli import cli
from tagtrail.links import CODES, PRESETS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _sections(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    return {part.splitlines()[0].strip(): part for part in parts[1:]}


_CTX = click.Context(cli)


@pytest.mark.parametrize("name", cli.list_commands(_CTX))
def test_every_command_and_option_is_in_docs_cli(name: str) -> None:
    section = _sections(DOCS / "cli.md").get(f"tagtrail {name}")
    assert section, f"docs/cli.md has no `## tagtrail {name}` section"
    command = cli.get_command(_CTX, name)
    assert command is not None
    for param in command.params:
        if isinstance(param, click.Option):
            longest = max(param.opts, key=len)
            assert longest in section, f"`{longest}` of `tagtrail {name}` is not documented"


def test_every_issue_code_is_in_docs_links() -> None:
    text = (DOCS / "links.md").read_text(encoding="utf-8")
    missing = [code for code in CODES if f"`{code}`" not in text]
    assert not missing


def test_every_preset_is_in_docs_links() -> None:
    text = (DOCS / "links.md").read_text(encoding="utf-8")
    assert not [name for name in PRESETS if f"`{name}`" not in text]


def test_every_check_and_channel_is_documented() -> None:
    checks = (DOCS / "check.md").read_text(encoding="utf-8")
    assert not [name for name in CHECK_NAMES if f"`{name}`" not in checks]
    channels = (DOCS / "channels.md").read_text(encoding="utf-8")
    assert not [name for name in CHANNELS if name not in channels]


def test_every_setting_is_in_docs_configuration() -> None:
    from tagtrail.settings import Settings

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert not [n for n in Settings.model_fields if f"`TAGTRAIL_{n.upper()}`" not in text]


def test_readme_gives_the_two_commands_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
