from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagtrail.links.values import encode_value, is_valid_id, normalize_value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Intercom", "intercom"),
        ("  Onboarding Series  ", "onboarding-series"),
        ("e_mail", "e-mail"),
        ("social media", "social-media"),
        ("paid_social", "paid-social"),
        ("Spring -- Sale!!", "spring-sale"),
        ("intercom.com", "intercom.com"),
        ("...weird..name...", "weird..name"),
        ("--x--", "x"),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),  # NFKC folds full-width forms
        ("Café Crème", "café-crème"),
        ("Straße", "straße"),
        ("हिन्दी अभियान", "हिन्दी-अभियान"),  # combining marks stay with their letters
        ("2024/Q3", "2024-q3"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalize_value(raw: str, expected: str) -> None:
    assert normalize_value(raw) == expected


def test_normalize_value_with_policy_separator_and_case() -> None:
    assert normalize_value("Summer Sale-2024", "_") == "summer_sale_2024"
    assert normalize_value("Summer Sale", "-", False) == "Summer-Sale"


@given(st.text())
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize_value(raw)
    assert normalize_value(once) == once


@given(st.text())
def test_normalized_values_never_start_or_end_with_separators(raw: str) -> None:
    value = normalize_value(raw)
    assert not value.startswith(("-", ".")) and not value.endswith(("-", "."))
    assert "--" not in value and " " not in value


def test_encode_value_uses_upper_case_utf8_hex_and_keeps_unreserved() -> None:
    assert encode_value("café-crème") == "caf%C3%A9-cr%C3%A8me"
    assert encode_value("a-b.c_d~e") == "a-b.c_d~e"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("Q3-2024_a.b", True),
        ("x" * 100, True),
        ("x" * 101, False),
        ("", False),
        ("a b", False),
        ("é", False),
        ("a/b", False),
    ],
)
def test_is_valid_id(value: str, ok: bool) -> None:
    assert is_valid_id(value) is ok
