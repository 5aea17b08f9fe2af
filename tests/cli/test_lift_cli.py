"""`tagtrail lift --sends --events`: the §10 document from files, and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tagtrail.attribution.registry import MODEL_NAMES
from tagtrail.lift.statistics import Group, compute_lift
from tests.lift.example import write_example

Run = Callable[..., Any]


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    return write_example(tmp_path)


def _args(example: tuple[Path, Path], *more: str) -> list[str]:
    sends, events = example
    return ["lift", "--sends", str(sends), "--events", str(events), "--campaign", "spring", *more]


def test_the_document_has_the_design_shape_and_figures(run_cli: Run, example) -> None:
    result = run_cli(*_args(example, "--holdout", "10%", "--json"))
    assert result.code == 0, result.err
    doc = result.json()
    assert list(doc) == [
        "campaign", "goal", "window_days", "level", "treatment", "control", "lift",
        "incremental", "srm", "mde_absolute", "attributed", "warnings",
    ]  # fmt: skip
    assert doc["campaign"] == "spring" and doc["window_days"] == 7.0 and doc["level"] == 0.95
    assert doc["treatment"] == {"recipients": 900, "converters": 72, "rate": 0.08, "value": 1800.0}
    assert doc["control"] == {"recipients": 100, "converters": 5, "rate": 0.05, "value": 125.0}
    expected = compute_lift(
        Group(900, 72, 1800.0, 72 * 625.0),
        Group(100, 5, 125.0, 5 * 625.0),
        expected_control_share=0.1,
    ).as_dict()
    assert doc["lift"] == expected["lift"]
    assert doc["incremental"] == expected["incremental"]
    assert doc["srm"] == expected["srm"] and doc["srm"]["p_value"] == 1.0
    assert doc["mde_absolute"] == expected["mde_absolute"]
    assert doc["incremental"]["conversions"] == pytest.approx(27.0)
    assert list(doc["attributed"]) == list(MODEL_NAMES)
    # 40 of the 72 treated converters clicked the campaign first; nobody else touched it.
    assert doc["attributed"]["last_touch"] == 40.0
    assert doc["attributed"]["first_touch"] == 40.0
    assert not any(w.startswith("window") for w in doc["warnings"])


def test_the_table_names_the_attributed_and_the_incremental_conversions(
    run_cli: Run, example
) -> None:
    result = run_cli(*_args(example, "--holdout", "10"))
    assert result.code == 0, result.err
    assert "attributed 40 conversions (last_touch); incremental 27 (95 % CI" in result.out
    assert "treatment" in result.out and "billboard" in result.out


def test_a_window_longer_than_the_data_is_a_warning(run_cli: Run, example) -> None:
    result = run_cli(*_args(example, "--window", "30d", "--json"))
    assert result.code == 0, result.err
    warnings = result.json()["warnings"]
    assert any(w.startswith("window longer than the data") for w in warnings), warnings
    assert any(w.startswith("no SRM check") for w in warnings)


def test_held_out_that_is_not_a_boolean_is_refused_naming_the_line(
    run_cli: Run, tmp_path: Path
) -> None:
    example = write_example(tmp_path, held_out_text="maybe")
    result = run_cli(*_args(example, "--json"))
    assert result.code == 1
    error = result.json()["error"]
    assert "line 902: held_out 'maybe' is not a boolean" in error, error


def test_no_held_out_recipient_says_lift_needs_a_holdout(run_cli: Run, tmp_path: Path) -> None:
    example = write_example(tmp_path, held_out_text="false")
    result = run_cli(*_args(example))
    assert result.code == 1
    assert "lift needs a holdout" in result.err and "--holdout 10%" in result.err


def test_events_without_conversions_are_refused(run_cli: Run, example) -> None:
    sends, events = example
    events.write_text(
        "user_id,timestamp,type,channel,source,medium,campaign,value\n"
        "u0001,2024-03-01T11:00:00Z,touch,email,newsletter,email,spring,\n",
        encoding="utf-8",
    )
    result = run_cli(*_args(example, "--json"))
    assert result.code == 1
    assert "no conversion rows" in result.json()["error"]


def test_an_unknown_campaign_lists_the_campaigns_of_the_file(run_cli: Run, example) -> None:
    sends, events = example
    result = run_cli("lift", "--sends", str(sends), "--events", str(events), "--campaign", "x")
    assert result.code == 1
    assert "no sends of campaign 'x'" in result.err and "'spring'" in result.err


def test_bad_options_are_usage_errors(run_cli: Run, example) -> None:
    assert run_cli(*_args(example, "--window", "soon")).code == 2
    assert run_cli(*_args(example, "--holdout", "150%")).code == 2
    sends, _ = example
    assert run_cli("lift", "--sends", str(sends), "--campaign", "spring").code == 2
