"""Markov-chain removal effects, solved exactly (DESIGN §7; research §1.3).

State space as ChannelAttribution builds it: a path's order-k states are its sliding windows of k
touches (one shorter window when the path is shorter than k), consecutive identical windows
collapsed. The chain is (start) → states → (conversion) | (null); probabilities are transition
counts over row totals, null paths included. Removing channel c makes every state whose window
contains c absorb into (null). With x the vector of P(conversion | state):

    x = r + Q x        (r_s = P(s → conversion))

solved by the fixed-point iteration x ← r + Qx on a sparse Q until no entry moves by more than
`tol` (walks absorb geometrically, so a few dozen sweeps reach 1e-12;
the stop rule bounds the error left, not the last step). Every removal is one more
column of the same iteration, with the removed states' rows pinned to 0. For value a converting
walk earns m(s), the mean value of the conversions whose last state is s, so r^value_s =
P(s → conversion)·m(s) = value ending at s / visits of s. RE_c = 1 − P_c/P; credit_c =
RE_c / ΣRE × total conversions (value likewise with the value removal effects).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tagtrail.attribution.credit import Credit, zeros
from tagtrail.attribution.heuristics import flatten
from tagtrail.attribution.paths import Floats, Ints, PathTable
from tagtrail.errors import InvalidInput

Seq = tuple[int, ...]


def states_of(seq: Seq, order: int) -> list[Seq]:
    """The order-k states of one path (ChannelAttribution's sliding windows, repeats collapsed)."""
    if len(seq) <= order:
        windows = [seq]
    else:
        windows = [seq[i : i + order] for i in range(len(seq) - order + 1)]
    states = [windows[0]]
    for window in windows[1:]:
        if window != states[-1]:
            states.append(window)
    return states


def _ints(values: list[int]) -> Ints:
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Chain:
    """The structure of the chain for one table shape (weights are applied per call)."""

    n_states: int
    contains: np.ndarray  # bool (n_states, n_channels)
    pair_path: Ints  # one row per (path, transition between two states)
    pair_index: Ints  # index into pair_from/pair_to
    pair_from: Ints
    pair_to: Ints
    first: Ints  # per path: first state (-1 for an empty path)
    last: Ints  # per path: last state (-1 for an empty path)
    visits_path: Ints  # one row per (path, visited state position): path index
    visits_state: Ints


@lru_cache(maxsize=16)
def _chain(paths: tuple[Seq, ...], order: int, n_channels: int) -> _Chain:
    """The chain's structure with numpy: each window is coded as Σ (channel+1)·B^j (B = number
    of channels + 1, so a shorter window never equals a longer one), consecutive equal codes of
    a path collapse, and states are the distinct codes. `states_of` is the per-path definition;
    a test solves the chain it defines densely and compares."""
    flat, starts, lengths = flatten(paths)
    n_paths = len(paths)
    base = n_channels + 1
    n_windows = np.where(lengths > order, lengths - order + 1, np.minimum(lengths, 1))
    w_path = np.repeat(np.arange(n_paths, dtype=np.int64), n_windows)
    w_first = np.zeros(n_paths, dtype=np.int64)
    np.cumsum(n_windows[:-1], out=w_first[1:])
    w_pos = np.arange(len(w_path), dtype=np.int64) - w_first[w_path]
    w_start = starts[w_path] + w_pos
    w_len = np.minimum(lengths[w_path], order)
    code = np.zeros(len(w_path), dtype=np.int64)
    for j in range(order):
        inside = j < w_len
        digit = (
            np.where(inside, flat[np.where(inside, w_start + j, 0)] + 1, 0) if len(flat) else code
        )
        code += digit * base**j
    kept = np.ones(len(code), dtype=np.bool_)
    kept[1:] = (w_path[1:] != w_path[:-1]) | (code[1:] != code[:-1])
    code, w_path = code[kept], w_path[kept]
    codes, state = np.unique(code, return_inverse=True)
    state = state.astype(np.int64)
    n_states = len(codes)
    contains = np.zeros((n_states, n_channels), dtype=np.bool_)
    for j in range(order):
        digit = codes // base**j % base
        hit = np.flatnonzero(digit > 0)
        contains[hit, digit[hit] - 1] = True
    first = np.full(n_paths, -1, dtype=np.int64)
    last = np.full(n_paths, -1, dtype=np.int64)
    last[w_path] = state  # the last assignment per path wins
    first[w_path[::-1]] = state[::-1]
    step = np.flatnonzero(w_path[1:] == w_path[:-1])
    pair_key = state[step] * max(n_states, 1) + state[step + 1]
    pairs, pair_index = np.unique(pair_key, return_inverse=True)
    return _Chain(
        n_states, contains, w_path[step], pair_index.astype(np.int64),
        pairs // max(n_states, 1), pairs % max(n_states, 1), first, last, w_path, state,
    )  # fmt: skip


def _solve(
    rows: Ints, cols: Ints, probs: Floats, r: Floats, keep: np.ndarray, tol: float
) -> Floats:
    """Iterate X ← keep ⊙ (R + Q X) for every column at once; return the fixed point."""
    x = r * keep
    order = np.argsort(rows, kind="stable")
    rows, cols, probs = rows[order], cols[order], probs[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else rows
    targets = rows[starts] if len(rows) else rows
    previous = 0.0
    for _ in range(1_000_000):
        qx = np.zeros_like(x)
        if len(rows):
            qx[targets] = np.add.reduceat(probs[:, None] * x[cols], starts, axis=0)
        new = keep * (r + qx)
        delta = float(np.max(np.abs(new - x))) if new.size else 0.0
        x = new
        # Error left after this sweep ≤ delta·ρ/(1−ρ), ρ estimated from successive deltas.
        rho = min(delta / previous, 0.999_999) if previous > 0 else 0.0
        previous = delta
        if delta == 0.0 or (rho > 0 and delta * rho / (1 - rho) <= tol):
            return np.asarray(x, dtype=np.float64)
    raise InvalidInput(
        "the Markov chain did not converge",
        hint="a path loops with probability close to 1; try a lower order",
    )  # pragma: no cover


def markov(table: PathTable, order: int = 1, *, tol: float = 1e-12) -> Credit:
    """Markov removal-effect attribution of order 1, 2 or 3, solved exactly."""
    if order not in (1, 2, 3):
        raise InvalidInput(f"Markov order {order} is not supported", hint="use 1, 2 or 3")
    k = len(table.channels)
    chain = _chain(table.paths, order, k)
    total = table.conversions + table.nulls
    live = chain.first >= 0
    n = chain.n_states
    if n == 0 or total.sum() == 0:
        return zeros(table.channels)
    visits = np.bincount(chain.visits_state, weights=total[chain.visits_path], minlength=n)
    pair_counts = np.bincount(
        chain.pair_index, weights=total[chain.pair_path], minlength=len(chain.pair_from)
    )
    conv_end = np.bincount(chain.last[live], weights=table.conversions[live], minlength=n)
    value_end = np.bincount(chain.last[live], weights=table.values[live], minlength=n)
    start = np.bincount(chain.first[live], weights=total[live], minlength=n) / total[live].sum()
    nz = visits > 0
    denom = np.where(nz, visits, 1.0)
    probs = pair_counts / denom[chain.pair_from]
    # Columns: 0 = conversions, 1 = value, then (conversions, value) with each channel removed.
    r = np.zeros((n, 2 * (k + 1)))
    r[:, 0::2] = (conv_end / denom)[:, None]
    r[:, 1::2] = (value_end / denom)[:, None]
    keep = np.ones_like(r)
    for c in range(k):
        keep[:, 2 + 2 * c] = keep[:, 3 + 2 * c] = ~chain.contains[:, c]
    scale = max(1.0, float(np.max(r[:, 1])))  # value columns solved in units of the largest r
    r[:, 1::2] /= scale
    x = _solve(chain.pair_from, chain.pair_to, probs, r, keep, tol)
    p = start @ x
    p_conv, p_value = p[0], p[1]
    re_conv = 1.0 - p[2::2] / p_conv if p_conv > 0 else np.zeros(k)
    re_value = 1.0 - p[3::2] / p_value if p_value > 0 else np.zeros(k)
    credit_conv = _allocate(re_conv, table.total_conversions)
    credit_value = _allocate(re_value, table.total_value)
    observed = float(table.conversions.sum() / total.sum())
    extra = {
        "removal_effects": dict(zip(table.channels, map(float, re_conv), strict=True)),
        "value_removal_effects": dict(zip(table.channels, map(float, re_value), strict=True)),
        "p_conversion": float(p_conv),
        "observed_conversion_rate": observed,
        "states": int(n),
    }
    return Credit(table.channels, credit_conv, credit_value, extra)


def _allocate(effects: Floats, total: float) -> Floats:
    s = float(effects.sum())
    return effects / s * total if s > 0 else np.zeros_like(effects)
