"""Model names (DESIGN §7, exactly) → the functions that define them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tagtrail.attribution import heuristics, markov, shapley
from tagtrail.attribution.billboard import billboard
from tagtrail.attribution.credit import Credit
from tagtrail.attribution.paths import Collected, Floats, PathTable
from tagtrail.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a model may read: the folded paths, and the per-touch credits of the engine."""

    collected: Collected
    table: PathTable
    weights: Floats | None = None


Model = Callable[[Inputs], Credit]

MODELS: dict[str, Model] = {
    "first_touch": lambda i: heuristics.first_touch(i.table),
    "last_touch": lambda i: heuristics.last_touch(i.table),
    "last_non_direct": lambda i: heuristics.last_non_direct(i.table),
    "linear": lambda i: heuristics.linear(i.table),
    "position_based": lambda i: heuristics.position_based(i.table),
    "j_shaped": lambda i: heuristics.j_shaped(i.table),
    "inverse_j": lambda i: heuristics.inverse_j(i.table),
    "time_decay": lambda i: heuristics.time_decay(i.collected, i.weights),
    "participation": lambda i: heuristics.participation(i.table),
    "markov_o1": lambda i: markov.markov(i.table, 1),
    "markov_o2": lambda i: markov.markov(i.table, 2),
    "markov_o3": lambda i: markov.markov(i.table, 3),
    "shapley_simplified": lambda i: shapley.shapley_simplified(i.table),
    "shapley_ordered": lambda i: shapley.shapley_ordered(i.table),
    "shapley_conv_rate": lambda i: shapley.shapley_conv_rate(i.table),
    "billboard": lambda i: billboard(i.collected, i.weights),
}

MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def parse_models(spec: str) -> tuple[str, ...]:
    """`all` or a comma-separated list of model names (order kept, duplicates dropped)."""
    if spec.strip() == "all":
        return MODEL_NAMES
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise InvalidInput(
            f"unknown model {', '.join(unknown) or '(none)'}",
            hint=f"use all or some of: {', '.join(MODEL_NAMES)}",
        )
    return names
