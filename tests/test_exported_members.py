"""The public API: every package's `__all__` is sorted and names something that exists."""

from __future__ import annotations

import importlib

import pytest


def _isort_key(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions (the order ruff's RUF022 keeps)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


PACKAGES = [
    "tagtrail",
    "tagtrail.links",
    "tagtrail.channels",
    "tagtrail.check",
    "tagtrail.clicks",
    "tagtrail.server",
    "tagtrail.messages",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for member in exported:
        assert hasattr(module, member), f"{name}.{member}"


def test_top_level_api() -> None:
    import tagtrail

    result = tagtrail.build_link(
        "https://example.com/", source="intercom", medium="email", campaign="welcome"
    )
    assert result.channel == tagtrail.channel_for("intercom", "email") == "Email"
    assert tagtrail.traffic_source(result.tracked_url or "").channel == "Email"
