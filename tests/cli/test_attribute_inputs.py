"""`tagtrail attribute --events` on edge-case files: no paths, BOM, unreadable files, GA4's
direct spellings, values that overflow, negative values, ISO 8601, duplicates, --html."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tagtrail.attribution.registry import MODEL_NAMES
from tests.conftest import CliResult

HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value"
Run = Callable[..., CliResult]
EMAIL = "u1,2024-01-01T00:00:00Z,touch,email,n,email,s,"


def _conversion(day: int, value: str) -> str:
    return f"u1,2024-01-{day:02d}T00:00:00Z,conversion,,,,,{value}"


def _csv(tmp_path: Path, *rows: str, name: str = "events.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    text = "\n".join([HEADER, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _ok(run_cli: Run, tmp_path: Path, *rows: str, args: tuple[str, ...] = ()) -> CliResult:
    """`attribute --events` (a CSV of `rows`) `--json ARGS`, which must succeed."""
    result = run_cli("attribute", "--events", str(_csv(tmp_path, *rows)), "--json", *args)
    assert result.code == 0, result.out + result.err
    return result


def _strict_json(text: str) -> Any:
    """json.loads that refuses Infinity and NaN, as every JSON parser but Python's does."""

    def refuse(name: str) -> float:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _assert_empty(result: CliResult) -> None:
    assert result.code == 0, result.out + result.err
    doc = _strict_json(result.out)
    assert doc["meta"]["total_conversions"] == 0 and doc["meta"]["n_paths"] == 0
    assert list(doc["models"]) == list(MODEL_NAMES)
    for body in doc["models"].values():
        assert not any(body["conversions"].values()) and not any(body["value"].values())


def test_a_header_only_csv_is_zero_conversions(run_cli: Run, tmp_path: Path) -> None:
    _assert_empty(run_cli("attribute", "--events", str(_csv(tmp_path)), "--json"))


def test_an_all_malformed_csv_is_zero_conversions(run_cli: Run, tmp_path: Path) -> None:
    path = _csv(tmp_path, "x,y", ",2024-01-01T00:00:00Z,touch,email,n,email,s,")
    result = run_cli("attribute", "--events", str(path), "--json")
    _assert_empty(result)
    assert result.json()["meta"]["rows_skipped"] == 2


def test_a_zero_row_parquet_file_is_zero_conversions(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({c: pa.array([], pa.string()) for c in HEADER.split(",")}), path)
    _assert_empty(run_cli("attribute", "--events", str(path), "--json"))


def test_a_utf8_bom_before_the_header_is_accepted(run_cli: Run, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "u1,2024-01-01T00:00:00Z,touch,email,news,email,spring,",
        "u1,2024-01-02T00:00:00Z,conversion,,,,,10.00",
        bom=True,
    )
    result = run_cli("attribute", "--events", str(path), "--model", "last_touch", "--json")
    assert result.code == 0, result.err
    assert result.json()["models"]["last_touch"]["value"]["email"] == 10.0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (bytes(range(256)) * 4, "not a CSV text file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a CSV text file"),
    ],
)
def test_an_empty_or_binary_file_is_a_clear_error(
    run_cli: Run, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(content)
    result = run_cli("attribute", "--events", str(path))
    assert result.code == 1
    assert expected in result.err
    assert "SELECT" not in result.err and "LINE 1" not in result.err and "Binder" not in result.err


def test_a_parquet_name_on_a_text_file_is_a_clear_error(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    path.write_text(HEADER + "\n", encoding="utf-8")
    result = run_cli("attribute", "--events", str(path), "--json")
    assert result.code == 1
    assert result.json()["error"].endswith("not a Parquet file")


def test_ga4_direct_spellings_are_direct(run_cli: Run, tmp_path: Path) -> None:
    rows = []
    for i, spelling in enumerate(("Direct", "(direct)", "direct", " DIRECT ")):
        rows += [
            f"u{i},2024-01-01T00:00:00Z,touch,Email,newsletter,email,spring,",
            f"u{i},2024-01-01T01:00:00Z,touch,{spelling},(direct),(none),,",
            f"u{i},2024-01-01T02:00:00Z,conversion,,,,,1.00",
        ]
    path = _csv(tmp_path, *rows)
    result = run_cli("attribute", "--events", str(path), "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["meta"]["channels"] == ["Email", "direct"]  # never both Direct and direct
    assert doc["models"]["last_non_direct"]["conversions"] == {"Email": 4.0, "direct": 0.0}
    assert doc["models"]["last_touch"]["conversions"] == {"Email": 0.0, "direct": 4.0}


def test_ga4_direct_is_direct_in_other_dimensions(run_cli: Run, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "u1,2024-01-01T00:00:00Z,touch,Direct,,,,",
        "u1,2024-01-01T02:00:00Z,conversion,,,,,1.00",
    )
    result = run_cli("attribute", "--events", str(path), "--by", "medium", "--json")
    assert result.code == 0, result.err
    assert result.json()["meta"]["channels"] == ["(none)"]


@pytest.mark.parametrize(("users", "code"), [(1, 0), (2, 1)])
def test_huge_values_never_make_invalid_json(
    run_cli: Run, tmp_path: Path, users: int, code: int
) -> None:
    """One 1e308 is a finite answer; two overflow their sum, which is refused clearly."""
    rows = []
    for u in range(users):
        rows += [
            f"u{u},2024-01-01T00:00:00Z,touch,email,n,email,s,",
            f"u{u},2024-01-01T00:00:01Z,touch,sms,n,sms,s,",
            f"u{u},2024-01-02T00:00:00Z,conversion,,,,,1e308",
        ]
    result = run_cli("attribute", "--events", str(_csv(tmp_path, *rows)), "--json")
    assert result.code == code, result.err
    doc = _strict_json(result.out)
    if code:
        assert "not a finite number" in doc["error"]
    else:
        assert math.isfinite(doc["meta"]["total_value"])


def test_negative_values_are_refused_as_malformed_rows(run_cli: Run, tmp_path: Path) -> None:
    result = _ok(run_cli, tmp_path, EMAIL, _conversion(2, "-20.00"), _conversion(3, "5.00"))
    meta = result.json()["meta"]
    assert meta["total_value"] == 5.0 and meta["total_conversions"] == 1
    assert meta["malformed"] == [{"line": 3, "reason": "value is negative"}]
    strict = run_cli("attribute", "--events", str(tmp_path / "events.csv"), "--strict")
    assert strict.code == 1 and "line 3: value is negative" in strict.err


def test_timestamps_follow_iso_8601(run_cli: Run, tmp_path: Path) -> None:
    doc = _ok(
        run_cli,
        tmp_path,
        "u1,2024-01-01T03:04Z,touch,email,n,email,s,",
        "u1,2024/01/01 05:00:00,touch,sms,n,sms,s,",
        "u1,01/02/2024 05:00:00,touch,sms,n,sms,s,",
        "u1,2024-01-01T06:00:00+01:00,conversion,,,,,1.00",
        args=("--model", "last_touch"),
    ).json()
    assert [m["line"] for m in doc["meta"]["malformed"]] == [3, 4]
    assert all("ISO 8601" in m["reason"] for m in doc["meta"]["malformed"])
    assert doc["models"]["last_touch"]["conversions"]["email"] == 1.0


def test_a_duplicated_conversion_row_is_warned(run_cli: Run, tmp_path: Path) -> None:
    result = _ok(run_cli, tmp_path, EMAIL, _conversion(2, "49.90"), _conversion(2, "49.90"))
    assert result.json()["meta"]["duplicate_conversions"] == 1
    assert "1 conversion row(s) repeat an earlier one" in result.err
    distinct = _csv(
        tmp_path,
        "u1,2024-01-02T00:00:00Z,conversion,,,,,49.90",
        "u1,2024-01-02T00:00:00Z,conversion,,,,,10.00",
        name="distinct.csv",
    )
    quiet = run_cli("attribute", "--events", str(distinct), "--json")
    assert quiet.json()["meta"]["duplicate_conversions"] == 0 and "repeat" not in quiet.err


def test_html_into_a_missing_folder_is_a_usage_error(run_cli: Run, tmp_path: Path) -> None:
    path = _csv(tmp_path, "u1,2024-01-02T00:00:00Z,conversion,,,,,1.00")
    target = tmp_path / "missing" / "x.html"
    result = run_cli("attribute", "--events", str(path), "--html", str(target))
    assert result.code == 2
    assert "does not exist" in result.err and "Traceback" not in result.err
    assert "internal error" not in result.err
