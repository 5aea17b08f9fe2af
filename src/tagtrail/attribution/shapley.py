"""Shapley-value models (DESIGN §7; research §1.4).

- `shapley_simplified` (Zhao et al. 2018): with v(S) = conversions of users whose channels all
  lie in S, the Shapley value collapses to 1/k per distinct channel of each converting path
  (k distinct channels); non-converting paths play no part. It is distinct-channel linear.
- `shapley_ordered`: the same 1/k share split further over the positions the channel occupies,
  1/(k·count); reported per position (`by_position`) and summed per channel.
- `shapley_conv_rate` (DP6's conversion-rate game, without its alphabetical `max_size` cut): for
  every channel set S that converted, the exact Shapley values φ of the game on subsets T ⊆ S
  with v(T) = conversions / paths among paths whose channel set is exactly T (0 when T never
  converted); S's conversions and value are split in proportion to φ. Every subset is
  enumerated; sets above `LARGE_SET` channels are logged as slow, never truncated.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from math import factorial

import numpy as np

from tagtrail.attribution.credit import Credit
from tagtrail.attribution.heuristics import apply_rule
from tagtrail.attribution.paths import PathTable

logger = logging.getLogger(__name__)

LARGE_SET = 20
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


@lru_cache(maxsize=64)
def _weights(size: int) -> np.ndarray:
    """Shapley weight |T|!(s−|T|−1)!/s! indexed by |T| for a game of `size` players."""
    return np.array([factorial(t) * factorial(size - t - 1) / factorial(size) for t in range(size)])


def shapley_values(members: Seq, rate: dict[int, float]) -> np.ndarray:
    """Exact Shapley values of the game v(T) = rate[bitmask of T] on the players `members`.

    Only the subsets of `members` that appear in `rate` have a non-zero worth, so v is filled
    from `rate` (no 2^s dictionary look-ups); the sum over all 2^s subsets is vectorised.
    """
    s = len(members)
    if s > LARGE_SET:
        logger.warning("shapley_conv_rate: a set of %d channels (2^%d subsets)", s, s)
    full = 0
    for m in members:
        full |= 1 << m
    v = np.zeros(1 << s)
    for mask, worth in rate.items():
        if mask & ~full == 0:
            v[sum(1 << j for j, m in enumerate(members) if mask >> m & 1)] = worth
    local = np.arange(1 << s, dtype=np.int64)
    size = np.zeros(1 << s, dtype=np.int64)
    for j in range(s):
        size += local >> j & 1
    weights = _weights(s)
    phi = np.zeros(s)
    for j in range(s):
        without = local[(local >> j & 1) == 0]
        phi[j] = float(np.sum(weights[size[without]] * (v[without | 1 << j] - v[without])))
    return phi


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
