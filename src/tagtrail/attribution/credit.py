"""The result of one model: conversions and value per channel (arrays aligned to the channels)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tagtrail.attribution.paths import Floats


@dataclass(frozen=True, slots=True)
class Credit:
    """Credit per channel (`channels[i]` earned `conversions[i]` and `value[i]`).

    `extra` holds a model's own diagnostics (Markov removal effects, Shapley positions), already
    JSON-ready.
    """

    channels: tuple[str, ...]
    conversions: Floats
    value: Floats
    extra: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            "conversions": dict(zip(self.channels, map(float, self.conversions), strict=True)),
            "value": dict(zip(self.channels, map(float, self.value), strict=True)),
        }


def zeros(channels: tuple[str, ...]) -> Credit:
    return Credit(channels, np.zeros(len(channels)), np.zeros(len(channels)))
