"""Shapley-value models (DESIGN §7; research §1.4).

- `shapley_simplified` (Zhao et al. 2018): with v(S) = conversions of users whose channels all
  lie in S, the Shapley value collapses to 1/k per distinct channel of each converting path
  (k distinct channels); non-converting paths play no part. It is distinct-channel linear.
- `shapley_ordered`: the same 1/k share split further over the positions the channel occupies,
  1/(k·count); reported per position (`by_position`) and summed per channel.
- `shapley_conv_rate` (DP6's conversion-rate game, without its alphabetical `max_size` cut): for
  every channel set S that converted, the exact Shapley values φ of the game on subsets T ⊆ S
  with v(T) = conversions / paths among paths whose channel set is exactly T (0 when T never
  converted); S's conversions and value are split in proportion to φ. No set is truncated:
  v is zero outside the observed sets, so φ costs O(observed sets × |S|) (`shapley_values`).
"""

from __future__ import annotations

from math import exp, lgamma

import numpy as np

from tagtrail.attribution.credit import Credit
from tagtrail.attribution.heuristics import apply_rule
from tagtrail.attribution.paths import PathTable

Seq = tuple[int, ...]


def shapley_simplified(table: PathTable) -> Credit:
    """Zhao's simplified Shapley: 1/k to each of the k distinct channels of a converting path."""
    return apply_rule("shapley_simplified", table)


def shapley_ordered(table: PathTable) -> Credit:
    """Zhao's ordered Shapley: 1/(k·count) per position; totals equal `shapley_simplified`."""
    k = len(table.channels)
    conv = np.zeros(k)
    value = np.zeros(k)
    positions: dict[str, dict[str, float]] = {}
    for seq, c, v in zip(table.paths, table.conversions, table.values, strict=True):
        if c == 0 and v == 0 or not seq:
            continue
        distinct = len(set(seq))
        for pos, channel in enumerate(seq, start=1):
            share = 1.0 / (distinct * seq.count(channel))
            conv[channel] += share * c
            value[channel] += share * v
            slot = positions.setdefault(table.channels[channel], {})
            slot[str(pos)] = slot.get(str(pos), 0.0) + share * float(c)
    return Credit(table.channels, conv, value, {"by_position": positions})


def _weight(size: int, t: int) -> float:
    """The Shapley weight t!(s−t−1)!/s! of a coalition of t players (s = `size`), through
    lgamma so no factorial overflows (200 players: weights near 1e-61)."""
    return exp(lgamma(t + 1) + lgamma(size - t) - lgamma(size + 1))


def shapley_values(members: Seq, rate: dict[int, float]) -> np.ndarray:
    """Exact Shapley values of the game v(T) = rate[bitmask of T] (0 when absent) on `members`.

    φ_i = Σ_{T ⊆ S∖i} w(|T|) (v(T ∪ i) − v(T)) with w(t) = t!(s−t−1)!/s!. v is zero outside
    the observed masks, so each observed T ⊆ S enters once: +w(|T|−1)·v(T) for each i ∈ T (as
    T ∪ i) and −w(|T|)·v(T) for each i ∉ T (as T). Cost O(observed sets × s), not 2^s.
    """
    s = len(members)
    full = 0
    for m in members:
        full |= 1 << m
    position = {m: j for j, m in enumerate(members)}
    phi = np.zeros(s)
    outside = 0.0  # Σ −w(|T|)·v(T), owed by every player, refunded below to those in T
    for mask, worth in rate.items():
        if mask & ~full or not worth:
            continue
        inside = [position[m] for m in members if mask >> m & 1]
        t = len(inside)
        if t < s:
            loss = _weight(s, t) * worth
            outside -= loss
            phi[inside] += loss
        if t:  # the empty set (never a path's set: R4 gives [direct]) is worth nothing
            phi[inside] += _weight(s, t - 1) * worth
    return phi + outside


def shapley_conv_rate(table: PathTable) -> Credit:
    """DP6's conversion-rate Shapley over exact channel sets, with no truncation."""
    k = len(table.channels)
    conv_by: dict[int, float] = {}
    paths_by: dict[int, float] = {}
    value_by: dict[int, float] = {}
    for seq, c, v, n in zip(table.paths, table.conversions, table.values, table.nulls, strict=True):
        mask = 0
        for channel in set(seq):
            mask |= 1 << channel
        conv_by[mask] = conv_by.get(mask, 0.0) + float(c)
        value_by[mask] = value_by.get(mask, 0.0) + float(v)
        paths_by[mask] = paths_by.get(mask, 0.0) + float(c + n)
    rate = {m: conv_by[m] / paths_by[m] for m in conv_by if conv_by[m] > 0}
    conv = np.zeros(k)
    value = np.zeros(k)
    for mask in rate:
        members = tuple(j for j in range(k) if mask >> j & 1)
        phi = shapley_values(members, rate)
        share = phi / phi.sum()
        conv[list(members)] += share * conv_by[mask]
        value[list(members)] += share * value_by[mask]
    return Credit(table.channels, conv, value)
