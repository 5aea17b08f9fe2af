"""`shapley_conv_rate` without 2^n: the sparse formula equals the brute force over every subset,
and a 200-channel converting path is exact and quick."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagtrail.attribution import shapley
from tests.attribution.helpers import table


def _brute_force(members: tuple[int, ...], rate: dict[int, float]) -> np.ndarray:
    """The former implementation: v filled on all 2^s subsets, φ summed over each of them."""
    from math import factorial

    s = len(members)
    v = np.zeros(1 << s)
    full = sum(1 << m for m in members)
    for mask, worth in rate.items():
        if mask & ~full == 0:
            v[sum(1 << j for j, m in enumerate(members) if mask >> m & 1)] = worth
    local = np.arange(1 << s, dtype=np.int64)
    size = np.zeros(1 << s, dtype=np.int64)
    for j in range(s):
        size += local >> j & 1
    weights = np.array([factorial(t) * factorial(s - t - 1) / factorial(s) for t in range(s)])
    phi = np.zeros(s)
    for j in range(s):
        without = local[(local >> j & 1) == 0]
        phi[j] = float(np.sum(weights[size[without]] * (v[without | 1 << j] - v[without])))
    return phi


@st.composite
def games(draw: st.DrawFn) -> tuple[tuple[int, ...], dict[int, float]]:
    n = draw(st.integers(1, 9))
    members = tuple(sorted(draw(st.sets(st.integers(0, 11), min_size=n, max_size=n))))
    masks = draw(st.lists(st.integers(1, (1 << 12) - 1), min_size=1, max_size=25))
    worth = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)
    rate = {m: draw(worth) for m in masks}
    return members, rate


@settings(max_examples=300, deadline=None)
@given(games())
def test_sparse_shapley_equals_the_brute_force(
    game: tuple[tuple[int, ...], dict[int, float]],
) -> None:
    members, rate = game
    got = shapley.shapley_values(members, rate)
    assert got == pytest.approx(_brute_force(members, rate), abs=1e-9)


def _two_set_game(s: int) -> tuple[float, float, np.ndarray]:
    """S = c0…c(s-1) converts at rate a; T = S without c0 at rate b (and nothing else):
    c0's marginal is a − b only when it comes last (probability 1/s), so φ0 = (a − b)/s and
    the others share the rest of v(S) = a equally (symmetry, efficiency)."""
    names = [f"c{i:03d}" for i in range(s)]
    full = ">".join(names)
    rest = ">".join(names[1:])
    rows = [(full, 3.0, 30.0, 1.0), (rest, 1.0, 10.0, 3.0)]  # a = 3/4, b = 1/4
    t = table(rows)
    credit = shapley.shapley_conv_rate(t)
    a, b = 0.75, 0.25
    phi0 = (a - b) / s
    others = (a - phi0) / (s - 1)
    index = {name: i for i, name in enumerate(t.channels)}
    # S's 3 conversions split by φ / a; T's single conversion split equally over its s − 1
    expected = np.zeros(len(t.channels))
    expected[index[names[0]]] = 3.0 * phi0 / a
    for name in names[1:]:
        expected[index[name]] = 3.0 * others / a + 1.0 / (s - 1)
    got = np.asarray(credit.conversions)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    return phi0, others, got


def test_the_two_set_game_matches_brute_force_when_small() -> None:
    phi0, others, _ = _two_set_game(8)
    rate = {0b11111111: 0.75, 0b11111110: 0.25}
    assert _brute_force(tuple(range(8)), rate) == pytest.approx([phi0] + [others] * 7, abs=1e-12)


@pytest.mark.timeout(60)
def test_a_200_channel_converting_path_is_exact() -> None:
    _, _, got = _two_set_game(200)
    assert float(got.sum()) == pytest.approx(4.0, rel=1e-12)
    path = ">".join(f"k{i}" for i in range(200))
    single = shapley.shapley_conv_rate(table([(path, 1.0, 5.0, 0.0)]))
    shares = single.as_dict()["conversions"]
    assert shares.pop("direct") == 0.0
    assert list(shares.values()) == pytest.approx([1 / 200] * 200, rel=1e-12)
