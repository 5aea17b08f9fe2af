"""`tagtrail report --html`: one self-contained file with the dashboard's charts and tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_report_is_one_self_contained_file(run_cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli(
        "links", "create", "--url", "https://example.com/a", "--source", "news",
        "--medium", "email", "--campaign", "spring", "--data-dir", str(data),
    )  # fmt: skip
    assert made.code == 0, made.err
    out = tmp_path / "report.html"
    result = run_cli("report", "--html", str(out), "--data-dir", str(data), "--campaign", "spring")
    assert result.code == 0, result.err
    html = out.read_text()
    assert "<style>" in html and "<script" not in html and 'rel="stylesheet"' not in html
    assert "spring" in html and 'class="chart"' in html and "Attribution models compared" in html


def test_a_bad_date_is_refused_with_a_hint(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run_cli("report", "--html", str(out), "--from", "May", "--data-dir", str(tmp_path))
    assert result.code == 1
    assert "YYYY-MM-DD" in result.err
    assert not out.exists()
