"""docs/clicks.md names every reason code and the formats' fixed values."""

from __future__ import annotations

from pathlib import Path

from tagtrail.clicks import HINT_PARAMETER, REASONS
from tagtrail.clicks.bots import SCANNER_REFERRER_HOSTS
from tagtrail.clicks.networks import SCANNER_NETWORKS
from tagtrail.clicks.tokens import HINT_SALT, TOKEN_SALT

ROOT = Path(__file__).resolve().parents[2]


def test_every_reason_and_format_value_is_documented() -> None:
    text = (ROOT / "docs" / "clicks.md").read_text(encoding="utf-8")
    assert not [code for code in REASONS if f"`{code}`" not in text]
    assert not [host for host in SCANNER_REFERRER_HOSTS if host not in text]
    for value in (HINT_PARAMETER, HINT_SALT, TOKEN_SALT):
        assert value in text


def test_every_scanner_network_has_provenance() -> None:
    text = (ROOT / "src" / "tagtrail" / "data" / "PROVENANCE.md").read_text(encoding="utf-8")
    section = text.split("## `scanner_networks.json`", 1)[1]
    for provider, cidrs in SCANNER_NETWORKS.items():
        assert f"**{provider}**" in section
        assert not [cidr for cidr in cidrs if f"`{cidr}`" not in section], provider
