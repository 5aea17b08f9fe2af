"""Run models over a `Collected` and shape the result as DESIGN §7's JSON (plus bootstrap CIs)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tagtrail.attribution.credit import Credit
from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.paths import Collected, Floats
from tagtrail.attribution.registry import MODELS, Inputs
from tagtrail.errors import InvalidInput

_TOO_LARGE = "conversion values too large: their sum is not a finite number"
_TOO_LARGE_HINT = "values are amounts (e.g. 49.90); fix the rows with values near 1e308"


def run_models(
    collected: Collected, names: Sequence[str], weights: Floats | None = None
) -> dict[str, Credit]:
    """Every named model's credit (one fold of the instances shared by all of them); values
    whose sum overflows are refused (the JSON document must stay valid: no Infinity, no NaN)."""
    try:
        math.fsum(collected.value[collected.converted].tolist())
    except OverflowError:
        raise InvalidInput(_TOO_LARGE, hint=_TOO_LARGE_HINT) from None
    inputs = Inputs(collected, collected.table(weights), weights)
    return {name: MODELS[name](inputs) for name in names}


def bootstrap(
    collected: Collected, names: Sequence[str], *, level: float, samples: int, seed: int
) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Percentile intervals per model and channel from `samples` draws of users with
    replacement (numpy's PCG64 seeded with `seed`, so a seed gives the same intervals)."""
    rng = np.random.default_rng(seed)
    n = collected.n_users
    k = len(collected.channels)
    draws = {name: np.zeros((samples, 2, k)) for name in names}
    for b in range(samples):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        for name, credit in run_models(collected, names, weights).items():
            draws[name][b, 0] = credit.conversions
            draws[name][b, 1] = credit.value
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for name, d in draws.items():
        q = np.percentile(d, [lo, hi], axis=0)  # (2, 2, k)
        out[name] = {
            kind: {
                ch: [float(q[0, j, c]), float(q[1, j, c])]
                for c, ch in enumerate(collected.channels)
            }
            for j, kind in enumerate(("conversions", "value"))
        }
    return out


def run_meta(collected: Collected, rules: PathRules, *, by: str, engine: str) -> dict[str, Any]:
    """The `meta` of a run: the rules it used, the engine, the path statistics, the rows
    skipped as malformed (with their line numbers)."""
    return {
        "lookback_days": rules.lookback / 86_400,
        "by": by,
        "engine": engine,
        **collected.stats,
        "malformed": [{"line": m.line, "reason": m.reason} for m in collected.malformed],
        "rules": {
            "touch_types": list(rules.touch_types),
            "collapse_repeats": rules.collapse_repeats,
            "half_life_days": rules.half_life / 86_400,
            "exposure_window_hours": rules.exposure_window / 3600,
            "click_window_days": rules.click_window / 86_400,
        },
    }


def result_document(
    collected: Collected,
    credits: dict[str, Credit],
    meta: dict[str, Any],
    ci: dict[str, dict[str, dict[str, list[float]]]] | None = None,
) -> dict[str, Any]:
    """`{"meta": {...}, "models": {model: {"conversions": {ch: x}, "value": {ch: x}, ...}}}`."""
    table = collected.table()
    self_check = {
        name: {
            "p_conversion": c.extra["p_conversion"],
            "observed_conversion_rate": c.extra["observed_conversion_rate"],
        }
        for name, c in credits.items()
        if "p_conversion" in c.extra
    }
    converting = collected.converted
    head = {
        "total_conversions": int(converting.sum()),
        "total_value": float(collected.value[converting].sum()),
        "n_paths": len(collected.path),
        "n_converting_paths": int(converting.sum()),
        "n_distinct_paths": len(table.paths),
        "n_users": collected.n_users,
        "channels": list(collected.channels),
        **meta,
    }
    if self_check:
        head["markov_self_check"] = self_check
    models: dict[str, Any] = {}
    for name, credit in credits.items():
        body: dict[str, Any] = credit.as_dict()
        body.update(credit.extra)
        if ci is not None:
            body["ci"] = ci[name]
        models[name] = body
    document = {"meta": head, "models": models}
    if not _finite(document):
        raise InvalidInput(_TOO_LARGE, hint=_TOO_LARGE_HINT)
    return document


def _finite(value: Any) -> bool:
    """True when no float anywhere in `value` (dicts, lists) is infinite or NaN."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True
