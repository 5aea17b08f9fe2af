"""Hypothesis properties of every model, and the Markov solver against a dense solve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagtrail.attribution import heuristics, markov
from tagtrail.attribution.document import run_models
from tagtrail.attribution.path_rules import Path
from tagtrail.attribution.paths import PathTable, collect
from tagtrail.attribution.registry import MODEL_NAMES

CHANNELS = ["a", "b", "c", "d", "direct"]

path_st = st.builds(
    lambda u, chans, ages, converted, value: Path(
        f"u{u}", tuple(chans), tuple(sorted(ages[: len(chans)], reverse=True)), converted, value
    ),
    st.integers(0, 8),
    st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=6),
    st.lists(st.integers(0, 40 * 86_400), min_size=6, max_size=6),
    st.booleans(),
    st.floats(0, 500, allow_nan=False).map(lambda v: round(v, 2)),
)
paths_st = st.lists(path_st, min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(paths_st)
def test_totals_are_conserved_by_every_model_but_participation(paths: list[Path]) -> None:
    collected = collect(paths)
    conversions = sum(p.converted for p in paths)
    value = sum(p.value for p in paths if p.converted)
    for name, credit in run_models(collected, MODEL_NAMES).items():
        if name == "participation":
            assert credit.conversions.sum() >= conversions - 1e-9
            continue
        if name.startswith("markov") and conversions == 0:
            continue
        assert credit.conversions.sum() == pytest.approx(conversions, abs=1e-9), name
        if not name.startswith("markov") or value > 0:
            assert credit.value.sum() == pytest.approx(value, abs=1e-6), name


@settings(max_examples=60, deadline=None)
@given(paths_st)
def test_an_absent_channel_gets_nothing(paths: list[Path]) -> None:
    collected = collect([*paths, Path("z", ("ghost",), (0,), False)])
    ghost = collected.channels.index("ghost")
    for name, credit in run_models(collected, MODEL_NAMES).items():
        if name in ("markov_o1", "markov_o2", "markov_o3", "shapley_conv_rate"):
            # a null-only channel is in the chain but no converting walk visits it
            assert credit.conversions[ghost] == pytest.approx(0, abs=1e-9), name
        else:
            assert credit.conversions[ghost] == 0, name


@settings(max_examples=60, deadline=None)
@given(paths_st, st.randoms(use_true_random=False))
def test_linear_ignores_order(paths: list[Path], rnd: object) -> None:
    shuffled = []
    for p in paths:
        chans = list(p.channels)
        rnd.shuffle(chans)  # type: ignore[attr-defined]
        shuffled.append(Path(p.user, tuple(chans), p.ages, p.converted, p.value))
    a = heuristics.linear(collect(paths).table())
    b = heuristics.linear(collect(shuffled).table())
    assert a.conversions == pytest.approx(b.conversions, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(paths_st, st.permutations(CHANNELS))
def test_markov_credit_is_unchanged_by_relabelling_channels(
    paths: list[Path], relabel: list[str]
) -> None:
    mapping = dict(zip(CHANNELS, [f"x_{c}" for c in relabel], strict=True))
    renamed = [
        Path(p.user, tuple(mapping[c] for c in p.channels), p.ages, p.converted, p.value)
        for p in paths
    ]
    for order in (1, 2, 3):
        a = markov.markov(collect(paths).table(), order)
        b = markov.markov(collect(renamed, direct=mapping["direct"]).table(), order)
        da = dict(zip(a.channels, a.conversions, strict=True))
        db = dict(zip(b.channels, b.conversions, strict=True))
        for c in {c for p in paths for c in p.channels}:
            assert db[mapping[c]] == pytest.approx(da[c], abs=1e-9)


def _dense_p_conv(table: PathTable, order: int, removed: int | None) -> float:
    """P(conversion) by a dense linear solve (I − Q) x = r of the same chain."""
    from tagtrail.attribution.markov import states_of

    counts: dict[tuple[object, object], float] = {}
    for seq, c, n in zip(table.paths, table.conversions, table.nulls, strict=True):
        states: list[object] = ["start", *states_of(seq, order)]
        for a, b in zip(states, states[1:], strict=False):
            counts[(a, b)] = counts.get((a, b), 0.0) + c + n
        counts[(states[-1], "conv")] = counts.get((states[-1], "conv"), 0.0) + c
        counts[(states[-1], "null")] = counts.get((states[-1], "null"), 0.0) + n
    nodes = sorted({a for a, _ in counts} | {b for _, b in counts}, key=repr)
    idx = {s: i for i, s in enumerate(nodes)}
    q = np.zeros((len(nodes), len(nodes)))
    for (a, b), v in counts.items():
        q[idx[a], idx[b]] += v
    q = q / np.maximum(q.sum(axis=1, keepdims=True), 1e-300)
    r = q[:, idx["conv"]].copy()
    for s in nodes:
        if isinstance(s, tuple) and removed is not None and removed in s:
            q[:, idx[s]] = 0.0  # entering a removed state absorbs into null
    for s in ("conv", "null"):
        q[:, idx[s]] = 0.0
    x = np.linalg.solve(np.eye(len(nodes)) - q, r)
    return float(x[idx["start"]])


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_iteration_equals_a_dense_solve(order: int) -> None:
    rng = np.random.default_rng(order)
    paths = []
    for i in range(400):
        n = int(rng.integers(1, 7))
        chans = tuple(str(c) for c in rng.choice(["a", "b", "c", "d", "e"], size=n))
        paths.append(Path(f"u{i}", chans, (0,) * n, bool(rng.random() < 0.3), 1.0))
    table = collect(paths).table()
    credit = markov.markov(table, order)
    base = _dense_p_conv(table, order, None)
    assert credit.extra["p_conversion"] == pytest.approx(base, abs=1e-12)
    assert base == pytest.approx(table.total_conversions / len(paths), abs=1e-12)
    for c, name in enumerate(table.channels):
        if name == "direct":
            continue
        expected = 1 - _dense_p_conv(table, order, c) / base
        assert credit.extra["removal_effects"][name] == pytest.approx(expected, abs=1e-11)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 5), min_size=0, max_size=7).map(tuple), max_size=30),
    st.integers(0, 6),
)
def test_vectorised_share_rules_equal_the_per_path_rules(
    seqs: list[tuple[int, ...]], direct: int
) -> None:
    paths = tuple(seqs)
    for name in heuristics.RULES:
        dense = []
        for rows, cols, shares in (
            heuristics.share_matrix_reference(name, paths, direct),
            heuristics._share_matrix(name, paths, direct),
        ):
            m = np.zeros((len(paths), 7))
            np.add.at(m, (rows, cols), shares)
            dense.append(m)
        assert np.allclose(dense[0], dense[1], rtol=0, atol=1e-15), name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 6), min_size=0, max_size=30), max_size=40),
    st.integers(7, 300),
)
def test_distinct_sequences_get_one_id_each(seqs: list[list[int]], n_channels: int) -> None:
    from tagtrail.attribution.vectorised import _distinct

    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    first = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if seqs else lengths
    cids = np.array([c for s in seqs for c in s], dtype=np.int64)
    ids, reps = _distinct(first, lengths, cids, n_channels)  # short ones packed, long by position
    assert len(set(ids.tolist())) == len({tuple(s) for s in seqs}) == len(reps)
    for i, s in enumerate(seqs):
        assert seqs[int(reps[ids[i]])] == s
