"""`tagtrail attribute`: JSON shape, malformed rows, --strict, --ci determinism, --html."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tagtrail.attribution.registry import MODEL_NAMES

HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value\n"
ROWS = [
    "u1,2024-01-01T00:00:00Z,touch,email,newsletter,email,spring,",
    "u1,2024-01-02T00:00:00Z,touch,paid_search,google,cpc,brand,",
    "u1,2024-01-03T00:00:00Z,conversion,,,,,100.00",
    "u2,2024-01-01T00:00:00Z,touch,email,newsletter,email,spring,",
    "u2,2024-01-05T00:00:00Z,conversion,,,,,50.00",
    "u3,2024-01-01T00:00:00Z,touch,paid_search,google,cpc,brand,",
    "u4,2024-01-01T00:00:00Z,conversion,,,,,0.00",
    "u5,2024-01-01T00:00:00Z,exposure,sms,instasent,sms,flash,",
    "u5,2024-01-01T05:00:00Z,conversion,,,,,20.00",
]


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def test_json_has_the_design_shape(run_cli: Callable[..., object], events: Path) -> None:
    result = run_cli("attribute", "--events", str(events), "--json")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    doc = result.json()  # type: ignore[attr-defined]
    meta = doc["meta"]
    for key in (
        "total_conversions", "total_value", "n_paths", "n_converting_paths",
        "conversions_without_touch", "lookback_days", "rows_skipped", "markov_self_check",
    ):  # fmt: skip
        assert key in meta
    assert meta["total_conversions"] == 4 and meta["total_value"] == 170.0
    assert meta["conversions_without_touch"] == 2  # u4 has no touch; u5 only an exposure
    assert meta["n_paths"] == 5 and meta["lookback_days"] == 30
    assert list(doc["models"]) == list(MODEL_NAMES)
    last = doc["models"]["last_touch"]
    assert last["conversions"] == {
        "direct": 2.0, "email": 1.0, "paid_search": 1.0, "sms": 0.0
    }  # fmt: skip
    assert doc["models"]["billboard"]["conversions"]["sms"] == 1.0
    check = meta["markov_self_check"]["markov_o1"]
    assert check["p_conversion"] == pytest.approx(check["observed_conversion_rate"], abs=1e-12)


def test_human_output_is_a_channel_by_model_table(
    run_cli: Callable[..., object], events: Path
) -> None:
    result = run_cli("attribute", "--events", str(events), "--model", "linear,markov_o2")
    assert result.code == 0  # type: ignore[attr-defined]
    out = result.out  # type: ignore[attr-defined]
    assert "linear" in out and "markov_o2" in out and "paid_search" in out


def test_malformed_rows_are_skipped_counted_and_located(
    run_cli: Callable[..., object], tmp_path: Path
) -> None:
    bad = [*ROWS[:3], "u9,yesterday,touch,email,,,,", "u9,2024-01-01T00:00:00Z,touch", *ROWS[3:]]
    bad.insert(6, "u8,2024-01-01T00:00:00Z,conversion,,,,,lots")
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n".join(bad) + "\n", encoding="utf-8")
    result = run_cli("attribute", "--events", str(path), "--json")
    doc = result.json()  # type: ignore[attr-defined]
    assert doc["meta"]["rows_skipped"] == 3
    lines = {m["line"]: m["reason"] for m in doc["meta"]["malformed"]}
    assert set(lines) == {5, 6, 8}
    assert "ISO 8601" in lines[5] and "number" in lines[8]
    strict = run_cli("attribute", "--events", str(path), "--strict", "--json")
    assert strict.code == 1  # type: ignore[attr-defined]
    assert "line 5" in strict.json()["error"]  # type: ignore[attr-defined]


def test_ci_is_deterministic_with_a_seed(run_cli: Callable[..., object], events: Path) -> None:
    args = ("attribute", "--events", str(events), "--json", "--ci", "0.9", "--ci-samples", "30")
    a = run_cli(*args, "--seed", "3").json()  # type: ignore[attr-defined]
    b = run_cli(*args, "--seed", "3").json()  # type: ignore[attr-defined]
    assert a["models"]["linear"]["ci"] == b["models"]["linear"]["ci"]
    lo, hi = a["models"]["linear"]["ci"]["conversions"]["email"]
    assert 0 <= lo <= hi
    assert a["meta"]["ci"] == {"level": 0.9, "samples": 30, "seed": 3}


def test_html_chart_is_written(
    run_cli: Callable[..., object], events: Path, tmp_path: Path
) -> None:
    out = tmp_path / "chart.html"
    result = run_cli("attribute", "--events", str(events), "--html", str(out))
    assert result.code == 0  # type: ignore[attr-defined]
    html = out.read_text(encoding="utf-8")
    assert (
        "<svg" in html
        and "markov_o1" in html
        and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    )


def test_by_campaign_and_errors(run_cli: Callable[..., object], events: Path) -> None:
    doc = run_cli("attribute", "--events", str(events), "--by", "campaign", "--json").json()  # type: ignore[attr-defined]
    assert doc["models"]["first_touch"]["conversions"]["spring"] == 2.0
    assert doc["models"]["first_touch"]["conversions"]["(direct)"] == 2.0
    master = run_cli("attribute", "--events", str(events), "--spark-master", "local[2]")
    assert master.code == 2 and "--engine spark" in master.err  # type: ignore[attr-defined]
    unknown = run_cli("attribute", "--events", str(events), "--model", "nope", "--json")
    assert unknown.code == 1  # type: ignore[attr-defined]
    missing = run_cli("attribute", "--events", "/nonexistent.csv", "--json")
    assert missing.code == 1  # type: ignore[attr-defined]
