"""Published worked examples, reproduced exactly (research §3)."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pytest

from tagtrail.attribution import heuristics, markov, shapley
from tagtrail.attribution.path_rules import DAY, Path
from tagtrail.attribution.paths import collect, decay_weights
from tests.attribution.helpers import table


def test_adobe_time_decay_example() -> None:
    # $50 order; touches 9 d (paid search), 6 d (social), 0 d (email), 0 d (display); H = 7 d.
    path = Path(
        "u", ("paid_search", "social", "email", "display"), (9 * DAY, 6 * DAY, 0, 0), True, 50.0
    )
    credit = heuristics.time_decay(collect([path]))
    got = dict(zip(credit.channels, credit.value, strict=True))
    assert got["paid_search"] == pytest.approx(6.9233, abs=5e-5)
    assert got["social"] == pytest.approx(9.3181, abs=5e-5)
    assert got["email"] == pytest.approx(16.8793, abs=5e-5)
    assert got["display"] == pytest.approx(16.8793, abs=5e-5)
    assert round(got["paid_search"], 2) == 6.92 and round(got["social"], 2) == 9.32


def test_adobe_j_shaped_and_linear_on_the_same_order() -> None:
    t = table([("paid_search>social>email>display", 1, 50.0, 0)])
    j = dict(zip(t.channels, heuristics.j_shaped(t).value, strict=True))
    assert j["display"] == pytest.approx(30) and j["paid_search"] == pytest.approx(10)
    assert j["social"] == pytest.approx(5) and j["email"] == pytest.approx(5)
    lin = heuristics.linear(t).value
    assert [v for v in lin if v] == pytest.approx([12.5] * 4)


def test_twelve_thousand_dollar_five_touch_table() -> None:
    weights = decay_weights([38 * DAY, 33 * DAY, 26 * DAY, 8 * DAY, 0])
    got = [12_000 * w for w in weights]
    assert got == pytest.approx([175.20, 287.44, 574.88, 3417.04, 7545.45], abs=0.01)


def test_mixpanel_shapes() -> None:
    t = table([("a>b>c>d>e>f", 1, 100.0, 0)])
    u = dict(zip(t.channels, heuristics.position_based(t).value, strict=True))
    assert [u[c] for c in "abcdef"] == pytest.approx([40, 5, 5, 5, 5, 40])
    two = table([("a>b", 1, 100.0, 0)])
    j = dict(zip(two.channels, heuristics.j_shaped(two).value, strict=True))
    ij = dict(zip(two.channels, heuristics.inverse_j(two).value, strict=True))
    assert (j["a"], j["b"]) == pytest.approx((25, 75))
    assert (ij["a"], ij["b"]) == pytest.approx((75, 25))


def test_bryl_three_path_markov_by_hand() -> None:
    # c1>c2>c3 converts, c1 fails, c2>c3 fails. P(conv) = 1/3. Removing c1: only paths through
    # c2 (from start, 1/3) convert with P(c2→c3)·P(c3→conv) = 1 · 1/2, so P = 1/6, RE = 0.5.
    # Removing c2 or c3 kills every converting walk: RE = 1. Credit 0.5/2.5, 1/2.5, 1/2.5.
    t = table([("c1>c2>c3", 1, 10.0, 0), ("c1", 0, 0.0, 1), ("c2>c3", 0, 0.0, 1)])
    credit = markov.markov(t, 1)
    got = dict(zip(credit.channels, credit.conversions, strict=True))
    assert got["c1"] == pytest.approx(0.2, abs=1e-12)
    assert got["c2"] == pytest.approx(0.4, abs=1e-12)
    assert got["c3"] == pytest.approx(0.4, abs=1e-12)
    assert credit.extra["p_conversion"] == pytest.approx(1 / 3, abs=1e-12)
    assert credit.extra["removal_effects"]["c1"] == pytest.approx(0.5, abs=1e-12)
    value = dict(zip(credit.channels, credit.value, strict=True))
    assert value["c1"] == pytest.approx(2.0, abs=1e-10)


def _brute_force_shapley(players: list[int], worth: dict[frozenset[int], float]) -> list[float]:
    n = len(players)
    phi = []
    for p in players:
        others = [q for q in players if q != p]
        total = 0.0
        for size in range(n):
            for subset in combinations(others, size):
                s = frozenset(subset)
                weight = factorial(size) * factorial(n - size - 1) / factorial(n)
                total += weight * (worth[s | {p}] - worth[s])
        phi.append(total)
    return phi


def test_zhao_simplified_equals_brute_force_shapley() -> None:
    rng = np.random.default_rng(4)
    channels = [f"c{i}" for i in range(6)]
    rows = []
    for _ in range(60):
        n = int(rng.integers(1, 6))
        path = ">".join(rng.choice(channels, size=n))
        rows.append((path, float(rng.integers(0, 3)), 0.0, float(rng.integers(0, 3))))
    t = table(rows)
    players = [t.channels.index(c) for c in channels]
    conv_by_set: dict[frozenset[int], float] = {}
    for seq, c in zip(t.paths, t.conversions, strict=True):
        conv_by_set[frozenset(seq)] = conv_by_set.get(frozenset(seq), 0.0) + c
    worth = {}
    for size in range(len(players) + 1):
        for subset in combinations(players, size):
            s = frozenset(subset)
            worth[s] = sum(v for t_set, v in conv_by_set.items() if t_set <= s)
    expected = _brute_force_shapley(players, worth)
    got = shapley.shapley_simplified(t).conversions
    assert [got[p] for p in players] == pytest.approx(expected, abs=1e-12)
    ordered = shapley.shapley_ordered(t)
    assert ordered.conversions == pytest.approx(got, abs=1e-12)


def test_shapley_values_match_brute_force_on_a_conv_rate_game() -> None:
    rate = {0b001: 0.1, 0b010: 0.2, 0b011: 0.5, 0b111: 0.9, 0b100: 0.05}
    players = [0, 1, 2]
    worth = {
        frozenset(s): rate.get(sum(1 << p for p in s), 0.0)
        for size in range(4)
        for s in combinations(players, size)
    }
    assert list(shapley.shapley_values((0, 1, 2), rate)) == pytest.approx(
        _brute_force_shapley(players, worth), abs=1e-14
    )
