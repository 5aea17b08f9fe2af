"""Rules-based models (DESIGN §7): each a function of a `PathTable`, named after the model.

Each model is a share rule: `shares(path) -> [(channel, share), ...]` summing to 1 per path
(participation: 1 per distinct channel). Credit = Σ over distinct paths of share × conversions
(and share × value). The share lists depend only on the sequences, so they are computed once per
table shape and reused by every bootstrap draw.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from itertools import chain

import numpy as np

from tagtrail.attribution.credit import Credit
from tagtrail.attribution.paths import Collected, Floats, PathTable

Seq = tuple[int, ...]
ShareRule = Callable[[Seq, int], list[tuple[int, float]]]


def _positional(first: float, middle: float, last: float, two: tuple[float, float]) -> ShareRule:
    def rule(seq: Seq, _direct: int) -> list[tuple[int, float]]:
        n = len(seq)
        if n == 1:
            return [(seq[0], 1.0)]
        if n == 2:
            return [(seq[0], two[0]), (seq[1], two[1])]
        inner = middle / (n - 2)
        return [(seq[0], first), *((c, inner) for c in seq[1:-1]), (seq[-1], last)]

    return rule


def _first(seq: Seq, _direct: int) -> list[tuple[int, float]]:
    return [(seq[0], 1.0)]


def _last(seq: Seq, _direct: int) -> list[tuple[int, float]]:
    return [(seq[-1], 1.0)]


def _last_non_direct(seq: Seq, direct: int) -> list[tuple[int, float]]:
    for channel in reversed(seq):
        if channel != direct:
            return [(channel, 1.0)]
    return [(seq[-1], 1.0)]


def _linear(seq: Seq, _direct: int) -> list[tuple[int, float]]:
    return [(c, 1.0 / len(seq)) for c in seq]


def _distinct(seq: Seq, _direct: int) -> list[tuple[int, float]]:
    seen = sorted(set(seq))
    return [(c, 1.0 / len(seen)) for c in seen]


def _participation(seq: Seq, _direct: int) -> list[tuple[int, float]]:
    return [(c, 1.0) for c in sorted(set(seq))]


RULES: dict[str, ShareRule] = {
    "first_touch": _first,
    "last_touch": _last,
    "last_non_direct": _last_non_direct,
    "linear": _linear,
    "position_based": _positional(0.4, 0.2, 0.4, (0.5, 0.5)),
    "j_shaped": _positional(0.2, 0.2, 0.6, (0.25, 0.75)),
    "inverse_j": _positional(0.6, 0.2, 0.2, (0.75, 0.25)),
    "participation": _participation,
    "shapley_simplified": _distinct,
}


POSITIONAL: dict[str, tuple[float, float, float, tuple[float, float]]] = {
    "position_based": (0.4, 0.2, 0.4, (0.5, 0.5)),
    "j_shaped": (0.2, 0.2, 0.6, (0.25, 0.75)),
    "inverse_j": (0.6, 0.2, 0.2, (0.75, 0.25)),
}
Matrix = tuple[np.ndarray, np.ndarray, np.ndarray]


@lru_cache(maxsize=8)
def flatten(paths: tuple[Seq, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(channels of every path end to end, each path's start in it, each path's length)."""
    lengths = np.fromiter(map(len, paths), dtype=np.int64, count=len(paths))
    flat = np.fromiter(chain.from_iterable(paths), dtype=np.int64, count=int(lengths.sum()))
    starts = np.zeros(len(paths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return flat, starts, lengths


def share_matrix_reference(name: str, paths: tuple[Seq, ...], direct: int) -> Matrix:
    """(path row, channel, share) of every touch under the pure rule `RULES[name]`."""
    rule = RULES[name]
    rows, cols, shares = [], [], []
    for i, seq in enumerate(paths):
        if not seq:
            continue
        for channel, share in rule(seq, direct):
            rows.append(i)
            cols.append(channel)
            shares.append(share)
    return (
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(shares, dtype=np.float64),
    )


@lru_cache(maxsize=64)
def _share_matrix(name: str, paths: tuple[Seq, ...], direct: int) -> Matrix:
    """`share_matrix_reference` computed with numpy over all paths at once (a test checks
    both agree)."""
    flat, starts, lengths = flatten(paths)
    live = np.flatnonzero(lengths > 0)
    row = np.repeat(np.arange(len(paths), dtype=np.int64), lengths)
    n = lengths[row]
    pos = np.arange(len(flat), dtype=np.int64) - starts[row]
    if name in ("first_touch", "last_touch"):
        at = starts[live] + (0 if name == "first_touch" else lengths[live] - 1)
        return live, flat[at], np.ones(len(live))
    if name == "last_non_direct":
        index = np.where(flat != direct, np.arange(len(flat)), -1)
        best = np.maximum.reduceat(index, starts[live]) if len(live) else index[:0]
        at = np.where(best >= 0, best, starts[live] + lengths[live] - 1)
        return live, flat[at], np.ones(len(live))
    if name == "linear":
        return row, flat, 1.0 / n
    if name in POSITIONAL:
        first, middle, last, two = POSITIONAL[name]
        share = np.where(
            pos == 0, first, np.where(pos == n - 1, last, middle / np.maximum(n - 2, 1))
        )
        share = np.where(n == 2, np.where(pos == 0, two[0], two[1]), share)
        return row, flat, np.where(n == 1, 1.0, share)
    # participation, shapley_simplified: the distinct channels of each path, in channel order.
    width = int(flat.max()) + 1 if len(flat) else 1
    keys = np.sort(row * width + flat)  # sort-based: numpy's hash unique is slower here
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    rows, cols = keys // width, keys % width
    if name == "participation":
        return rows, cols, np.ones(len(rows))
    return rows, cols, 1.0 / np.bincount(rows, minlength=len(paths))[rows]


def apply_rule(name: str, table: PathTable) -> Credit:
    """Credit of the share rule `name` over every converting path of `table`."""
    direct = table.channels.index(table.direct) if table.direct in table.channels else -1
    rows, cols, shares = _share_matrix(name, table.paths, direct)
    k = len(table.channels)
    conv = np.bincount(cols, weights=shares * table.conversions[rows], minlength=k)
    value = np.bincount(cols, weights=shares * table.values[rows], minlength=k)
    return Credit(table.channels, conv.astype(np.float64), value.astype(np.float64))


def first_touch(table: PathTable) -> Credit:
    """100 % to the first touch."""
    return apply_rule("first_touch", table)


def last_touch(table: PathTable) -> Credit:
    """100 % to the last touch."""
    return apply_rule("last_touch", table)


def last_non_direct(table: PathTable) -> Credit:
    """100 % to the last touch that is not `direct`; to `direct` when every touch is."""
    return apply_rule("last_non_direct", table)


def linear(table: PathTable) -> Credit:
    """1/n to each of the n touches (a channel seen twice gets two shares)."""
    return apply_rule("linear", table)


def position_based(table: PathTable) -> Credit:
    """U-shaped: 1 touch 1; 2 touches ½/½; else 0.4 first, 0.4 last, 0.2/(n−2) each middle."""
    return apply_rule("position_based", table)


def j_shaped(table: PathTable) -> Credit:
    """20/20/60 (first / middle shared / last); 2 touches 0.25/0.75; 1 touch 1."""
    return apply_rule("j_shaped", table)


def inverse_j(table: PathTable) -> Credit:
    """60/20/20 (first / middle shared / last); 2 touches 0.75/0.25; 1 touch 1."""
    return apply_rule("inverse_j", table)


def participation(table: PathTable) -> Credit:
    """Each distinct channel of a converting path gets 1 and the full value (sums exceed)."""
    return apply_rule("participation", table)


def time_decay(collected: Collected, weights: Floats | None = None) -> Credit:
    """Weight 2^(−t/H) per touch, t = conversion time − touch time (continuous days), normalised
    per conversion; H = 7 days unless the engine was given another half-life. The shares are
    fixed per touch by the engine with `paths.decay_weights` (DuckDB: the same formula in SQL)."""
    conv, value = collected.touch_credit(collected.decay, weights)
    return Credit(collected.channels, conv, value)
