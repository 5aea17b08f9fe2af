"""Cross-check against ChannelAttribution (GPL: only when the bench installed it in the venv)."""

from __future__ import annotations

import numpy as np
import pytest

from tagtrail.attribution import heuristics, markov
from tests.attribution.helpers import table

ca = pytest.importorskip("ChannelAttribution")
pd = pytest.importorskip("pandas")


def _generated() -> list[tuple[str, float, float, float]]:
    rng = np.random.default_rng(11)
    rows: dict[str, list[float]] = {}
    for _ in range(3000):
        n = int(rng.integers(1, 6))
        path = ">".join(str(c) for c in rng.choice(["a", "b", "c", "d", "e"], size=n))
        converted = rng.random() < 0.1 + 0.05 * path.count("c")
        row = rows.setdefault(path, [0.0, 0.0, 0.0])
        row[0] += converted
        row[1] += round(float(rng.gamma(2, 20)), 2) if converted else 0.0
        row[2] += not converted
    return [(p, c, v, n) for p, (c, v, n) in rows.items()]


def test_heuristics_match_exactly_and_markov_within_simulation_noise() -> None:
    rows = _generated()
    df = pd.DataFrame(rows, columns=["path", "conv", "value", "nulls"])
    t = table(rows)
    h = ca.heuristic_models(df, "path", "conv", var_value="value", sep=">", flg_pro=False)
    ours = {
        "first_touch": heuristics.first_touch(t),
        "last_touch": heuristics.last_touch(t),
        "linear_touch": heuristics.linear(t),
    }
    for _, r in h.iterrows():
        i = t.channels.index(r["channel_name"])
        for name, credit in ours.items():
            assert float(r[f"{name}_conversions"]) == pytest.approx(credit.conversions[i], abs=1e-9)
            assert float(r[f"{name}_value"]) == pytest.approx(credit.value[i], abs=1e-6)
    m = ca.markov_model(
        df, "path", "conv", var_null="nulls", order=1, sep=">", nsim_start=3e6, flg_pro=False
    )
    exact = markov.markov(t, 1)
    total = t.total_conversions
    for _, r in m.iterrows():
        i = t.channels.index(r["channel_name"])
        assert float(r["total_conversions"]) == pytest.approx(
            exact.conversions[i], abs=0.01 * total
        )
