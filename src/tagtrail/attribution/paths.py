"""Aggregated paths: what every engine hands to the models.

An engine (DuckDB today, Spark later, or `collect` below over pure Python paths) produces a
`Collected`: the distinct channel sequences, one row per path instance (user, sequence,
converted, value), the per-touch time-decay shares and the billboard winner of each conversion.
`table()` folds the instances into a `PathTable` (distinct paths with their conversions, value
and nulls), optionally weighted per user for the bootstrap. The models read only that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tagtrail.attribution.path_rules import DAY, Path

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PathTable:
    """Distinct paths (channel ids in touch order) with conversions, value and nulls each."""

    channels: tuple[str, ...]
    paths: tuple[tuple[int, ...], ...]
    conversions: Floats
    values: Floats
    nulls: Floats
    direct: str = "direct"

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.values.sum())


@dataclass(frozen=True, slots=True)
class TouchCredit:
    """Per-conversion credit fixed by touch times (`time_decay`) or exposures (`billboard`):
    row i gives `share[i]` of path instance `instance[i]` to channel `channel[i]`."""

    instance: Ints
    channel: Ints
    share: Floats


@dataclass(frozen=True, slots=True)
class Malformed:
    """A skipped input row: its line number in the file (a Parquet row number) and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Collected:
    """Everything the models need, independent of the engine that built it."""

    channels: tuple[str, ...]
    paths: tuple[tuple[int, ...], ...]
    user: Ints  # per path instance: user index 0..n_users-1
    path: Ints  # per path instance: index into `paths`
    converted: npt.NDArray[np.bool_]
    value: Floats
    decay: TouchCredit
    billboard: TouchCredit
    n_users: int
    direct: str = "direct"
    stats: dict[str, int] = field(default_factory=dict)
    malformed: tuple[Malformed, ...] = ()  # the first few skipped rows

    def table(self, weights: Floats | None = None) -> PathTable:
        """Fold the instances into distinct paths; `weights` (per user) for a bootstrap draw."""
        w = np.ones(len(self.path)) if weights is None else weights[self.user]
        n = len(self.paths)
        conv = _sum_by(self.path, w * self.converted, n)
        nulls = _sum_by(self.path, w * ~self.converted, n)
        values = _sum_by(self.path, w * self.value * self.converted, n)
        return PathTable(self.channels, self.paths, conv, values, nulls, self.direct)

    def touch_credit(
        self, credit: TouchCredit, weights: Floats | None = None
    ) -> tuple[Floats, Floats]:
        """Conversions and value per channel of a `TouchCredit` (weighted per user)."""
        w = np.ones(len(self.path)) if weights is None else weights[self.user]
        k = len(self.channels)
        base = w[credit.instance] * credit.share
        conv = _sum_by(credit.channel, base, k)
        value = _sum_by(credit.channel, base * self.value[credit.instance], k)
        return conv, value


def _sum_by(index: Ints, weights: Floats, size: int) -> Floats:
    """Σ weights per index value (0..size-1), as float64."""
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64)


def _ints(values: Sequence[int]) -> Ints:
    return np.asarray(values, dtype=np.int64)


def decay_weights(ages: Sequence[int], half_life: float = 7 * DAY) -> list[float]:
    """time_decay's shares: 2^(−t/H) per touch (t in seconds, continuous), normalised to 1."""
    raw = [math.pow(2.0, -age / half_life) for age in ages]
    total = sum(raw)
    return [r / total for r in raw]


def collect(
    paths: Sequence[Path],
    billboard: Sequence[str | None] = (),
    *,
    direct: str = "direct",
    half_life: float = 7 * DAY,
) -> Collected:
    """A `Collected` from pure Python paths (the reference engine; also used by tests).

    `billboard[i]` is the billboard channel of path i when it converted (None: no exposure or
    click qualified, so the conversion goes to `direct`).
    """
    names = sorted({c for p in paths for c in p.channels} | {b for b in billboard if b} | {direct})
    index = {name: i for i, name in enumerate(names)}
    users: dict[str, int] = {}
    seqs: dict[tuple[int, ...], int] = {}
    user, pid, conv, value = [], [], [], []
    d_inst, d_ch, d_share, b_inst, b_ch = [], [], [], [], []
    for i, p in enumerate(paths):
        seq = tuple(index[c] for c in p.channels)
        user.append(users.setdefault(p.user, len(users)))
        pid.append(seqs.setdefault(seq, len(seqs)))
        conv.append(p.converted)
        value.append(p.value if p.converted else 0.0)
        if p.converted:
            for ch, share in zip(seq, decay_weights(p.ages, half_life), strict=True):
                d_inst.append(i)
                d_ch.append(ch)
                d_share.append(share)
            b_inst.append(i)
            winner = billboard[i] if i < len(billboard) else None
            b_ch.append(index[winner or direct])
    return Collected(
        channels=tuple(names),
        paths=tuple(seqs),
        user=_ints(user),
        path=_ints(pid),
        converted=np.asarray(conv, dtype=np.bool_),
        value=np.asarray(value, dtype=np.float64),
        decay=TouchCredit(_ints(d_inst), _ints(d_ch), np.asarray(d_share, dtype=np.float64)),
        billboard=TouchCredit(_ints(b_inst), _ints(b_ch), np.ones(len(b_inst))),
        n_users=len(users),
        direct=direct,
    )
