"""docs/collect.md covers the public API, every payload field and the size limits."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import tagtrail.collect as collect
from tagtrail.collect.schema import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "collect.md").read_text(encoding="utf-8")

FIELDS = [
    "type",
    "messageId",
    "anonymousId",
    "userId",
    "previousId",
    "groupId",
    "event",
    "name",
    "properties",
    "traits",
    "context",
    "integrations",
    "timestamp",
    "sentAt",
    "originalTimestamp",
    "receivedAt",
    "writeKey",
    "userAgent",
]


def test_every_public_name_event_type_and_field_is_documented() -> None:
    skip = {"Batch", "Event", "EventType", "EVENT_TYPES", "JOURNEY_COLUMNS", "Hit", "Session"}
    assert not [n for n in collect.__all__ if n not in skip and n not in TEXT]
    assert not [t for t in EVENT_TYPES if f"`{t}`" not in TEXT]
    assert not [f for f in FIELDS if f"`{f}`" not in TEXT]
    assert "32 768" in TEXT and "512 000" in TEXT


@pytest.mark.parametrize(
    "name",
    [
        "tagtrail.collect",
        "tagtrail.collect.schema",
        "tagtrail.collect.normalize",
        "tagtrail.collect.touchpoints",
        "tagtrail.collect.sessions",
        "tagtrail.collect.identity",
        "tagtrail.collect.profiles",
        "tagtrail.collect.journey_rows",
    ],
)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)

    def key(member: str) -> tuple[int, str]:
        return (0 if member.isupper() else 1 if member[:1].isupper() else 2, member)

    assert exported == sorted(exported, key=key)
    assert all(hasattr(module, member) for member in exported)
