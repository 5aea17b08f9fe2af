"""Holdout assignment: deterministic, keyed, stable, close to the share asked for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagtrail.errors import InvalidInput
from tagtrail.lift import holdout_position, holdout_share, is_held_out

SECRET = b"s" * 32


@pytest.mark.parametrize(
    ("text", "share"), [("10%", 0.1), ("10", 0.1), (" 2.5 % ", 0.025), ("", 0.0), (None, 0.0)]
)
def test_share_reads_a_percentage(text: str | None, share: float) -> None:
    assert holdout_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["ten", "100", "-1", "nan", "inf", "150%"])
def test_share_refuses_what_is_not_a_percentage(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        holdout_share(text)
    assert caught.value.hint is not None and "10%" in caught.value.hint


def test_the_share_held_out_is_close_to_the_share_asked_for() -> None:
    keys = [f"user:u{i}" for i in range(20_000)]
    held = sum(is_held_out(SECRET, key, campaign="spring", share=0.1) for key in keys)
    assert 1_850 <= held <= 2_150  # 10 % ± 5 standard deviations


def test_assignment_depends_on_secret_and_campaign_but_not_on_the_message() -> None:
    keys = [f"user:u{i}" for i in range(2_000)]
    spring = {k for k in keys if is_held_out(SECRET, k, campaign="spring", share=0.2)}
    again = {k for k in keys if is_held_out(SECRET, k, campaign="spring", share=0.2)}
    summer = {k for k in keys if is_held_out(SECRET, k, campaign="summer", share=0.2)}
    other_key = {k for k in keys if is_held_out(b"t" * 32, k, campaign="spring", share=0.2)}
    assert spring == again
    assert spring != summer and spring != other_key


def test_global_control_group_is_held_out_of_every_campaign() -> None:
    keys = [f"user:u{i}" for i in range(2_000)]
    global_group = {k for k in keys if holdout_position(SECRET, k, campaign=None) < 0.05}
    assert global_group
    for campaign in ("spring", "summer"):
        assert all(
            is_held_out(SECRET, k, campaign=campaign, share=0.0, global_share=0.05)
            for k in global_group
        )


@given(st.text(min_size=1), st.floats(0.0, 0.99), st.floats(0.0, 0.99))
def test_a_larger_share_only_adds_recipients(key: str, low: float, high: float) -> None:
    low, high = sorted((low, high))
    if is_held_out(SECRET, key, campaign="c", share=low):
        assert is_held_out(SECRET, key, campaign="c", share=high)
