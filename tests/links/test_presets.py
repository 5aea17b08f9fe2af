from __future__ import annotations

import pytest

from tagtrail.links import PRESETS, build_link


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_lands_in_its_channel_without_warnings(name: str) -> None:
    preset = PRESETS[name]
    result = build_link(
        "https://example.com/", source=preset.source, medium=preset.medium, campaign="launch"
    )
    assert result.channel == preset.channel
    assert result.status == "ok", [i.code for i in result.issues]


def test_the_conventions_the_design_names() -> None:
    assert (PRESETS["intercom"].source, PRESETS["intercom"].medium) == ("intercom", "email")
    assert (PRESETS["instasent"].source, PRESETS["instasent"].medium) == ("instasent", "sms")
    for name in ("mixpanel", "facebook-ads", "google-ads", "linkedin-ads", "newsletter"):
        assert name in PRESETS
