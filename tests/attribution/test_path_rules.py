"""R1–R7 one by one (pure reference), and the DuckDB engine against the reference."""

from __future__ import annotations

from pathlib import Path as FilePath

import numpy as np
import pytest

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.billboard import billboard_winners
from tagtrail.attribution.document import run_models
from tagtrail.attribution.path_rules import DAY, Event, PathRules, build_paths, user_paths
from tagtrail.attribution.paths import collect
from tagtrail.attribution.registry import MODEL_NAMES
from tests.attribution.helpers import numbered, write_events

T0 = 1_700_000_000


def touch(ts: int, channel: str, user: str = "u", line: int = 0) -> Event:
    return Event(user, T0 + ts, "touch", channel, 0.0, line)


def conv(ts: int, value: float = 1.0, user: str = "u", line: int = 0) -> Event:
    return Event(user, T0 + ts, "conversion", "", value, line)


def test_r1_equal_timestamps_touch_sorts_before_conversion() -> None:
    paths = user_paths([conv(10, line=1), touch(10, "a", line=2)])
    assert [(p.channels, p.converted) for p in paths] == [(("a",), True)]


def test_r2_each_conversion_closes_its_own_path_and_touches_are_not_reused() -> None:
    paths = user_paths([touch(0, "a"), conv(5), touch(6, "b"), conv(7), conv(8)])
    assert [p.channels for p in paths] == [("a",), ("b",), ("direct",)]
    assert all(p.converted for p in paths)


def test_r3_lookback_boundary_is_inclusive() -> None:
    rules = PathRules(lookback=30 * DAY)
    paths = user_paths([touch(0, "a"), touch(1, "b"), conv(30 * DAY)], rules)
    assert paths[0].channels == ("a", "b")
    paths = user_paths([touch(0, "a"), touch(1, "b"), conv(30 * DAY + 1)], rules)
    assert paths[0].channels == ("b",)


def test_r4_conversion_without_touch_gets_direct() -> None:
    (path,) = user_paths([touch(0, "a"), conv(31 * DAY, 9.0)])
    assert path.channels == ("direct",) and path.filled and path.value == 9.0


def test_r5_touches_after_the_last_conversion_form_a_windowed_null_path() -> None:
    events = [touch(0, "x"), conv(1), touch(2, "a"), touch(40 * DAY, "b"), touch(41 * DAY, "c")]
    paths = user_paths(events)
    assert [(p.channels, p.converted) for p in paths] == [
        (("x",), True),
        (("b", "c"), False),  # "a" is more than 30 days before the tail's own last touch
    ]
    assert paths[1].ages == (DAY, 0)


def test_r7_repeats_are_kept_and_collapsing_keeps_the_last_of_each_run() -> None:
    events = [touch(0, "a"), touch(1, "a"), touch(2, "b"), conv(3)]
    assert user_paths(events)[0].channels == ("a", "a", "b")
    collapsed = user_paths(events, PathRules(collapse_repeats=True))[0]
    assert collapsed.channels == ("a", "b") and collapsed.ages == (2, 1)


def _random_events(seed: int, users: int = 60) -> list[Event]:
    rng = np.random.default_rng(seed)
    events = []
    for u in range(users):
        for _ in range(int(rng.integers(1, 9))):
            ts = int(rng.integers(0, 50)) * int(rng.choice([1, 3_600, DAY]))
            kind = rng.choice(["touch", "touch", "touch", "conversion", "exposure"])
            channel = str(rng.choice(["a", "b", "c", "direct", "e"]))
            value = float(np.round(rng.gamma(2, 10), 2))
            events.append(Event(f"u{u}", T0 + ts, str(kind), channel, value))
    rng.shuffle(events)  # type: ignore[arg-type]
    return events


def _as_dicts(credits: dict[str, object]) -> dict[str, dict[str, dict[str, float]]]:
    out = {}
    for name, credit in credits.items():
        d = credit.as_dict()  # type: ignore[attr-defined]
        out[name] = {k: {c: v for c, v in m.items() if abs(v) > 1e-12} for k, m in d.items()}
    return out


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("variant", ["default", "collapse", "exposures"])
def test_duckdb_engine_equals_the_pure_reference(
    tmp_path: FilePath, seed: int, variant: str
) -> None:
    rules = PathRules(lookback=20 * DAY, collapse_repeats=variant == "collapse")
    if variant == "exposures":  # exposures are path touches too; billboard windows shortened
        rules = PathRules(
            touch_types=("touch", "exposure"), exposure_window=3_600, click_window=2 * DAY
        )
    events = _random_events(seed)
    csv = write_events(tmp_path / "e.csv", events)
    reference_events = numbered(events)
    paths = build_paths(reference_events, rules)
    reference = collect(paths, billboard_winners(reference_events, rules))
    engine = duckdb_engine.load(csv, rules=rules)
    assert engine.n_users == reference.n_users
    assert len(engine.path) == len(reference.path)
    expected = _as_dicts(run_models(reference, MODEL_NAMES))
    got = _as_dicts(run_models(engine, MODEL_NAMES))
    for name in MODEL_NAMES:
        for kind in ("conversions", "value"):
            assert got[name][kind].keys() == expected[name][kind].keys(), name
            for channel, v in expected[name][kind].items():
                assert got[name][kind][channel] == pytest.approx(v, abs=1e-9), (name, channel)


def test_billboard_windows_and_most_recent_qualifying_event() -> None:
    rules = PathRules()
    events = numbered(
        [
            Event("u", T0, "exposure", "sms", 0.0),
            Event("u", T0 + 100, "touch", "email", 0.0),
            Event("u", T0 + 3 * DAY, "conversion", "", 5.0),  # email click 3 d minus 100 s ago
            Event("v", T0, "exposure", "sms", 0.0),
            Event("v", T0 + DAY + 1, "conversion", "", 5.0),  # exposure too old → direct
            Event("w", T0, "touch", "email", 0.0),
            Event("w", T0 + 10, "exposure", "sms", 0.0),
            Event("w", T0 + 20, "conversion", "", 5.0),  # most recent: the sms send
        ]
    )
    assert billboard_winners(events, rules) == ["email", None, "sms"]
