"""docs/lift.md's worked example: every number of its JSON block is what `tagtrail lift` prints
(to the decimals the docs show)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.lift.example import write_example

DOC = Path(__file__).resolve().parents[2] / "docs" / "lift.md"


class _Shown(float):
    """A number as the docs write it, with the tolerance its decimals give."""

    tolerance: float

    def __new__(cls, text: str) -> _Shown:
        value = super().__new__(cls, text)
        exponent = Decimal(text).as_tuple().exponent
        value.tolerance = 0.5 * 10.0 ** (exponent if isinstance(exponent, int) else 0) + 1e-12
        return value


def _documented() -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- worked-example -->\s*```json\n(.*?)```", text, re.DOTALL)
    assert match, "docs/lift.md has no worked-example JSON block"
    found: dict[str, Any] = json.loads(match.group(1), parse_float=_Shown)
    return found


def _compare(shown: Any, actual: Any, where: str) -> None:
    if isinstance(shown, dict):
        for key, value in shown.items():
            assert key in actual, f"{where}.{key} is not in the document"
            _compare(value, actual[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert len(shown) == len(actual), where
        for i, (a, b) in enumerate(zip(shown, actual, strict=True)):
            _compare(a, b, f"{where}[{i}]")
    elif isinstance(shown, _Shown):
        assert abs(actual - shown) <= shown.tolerance, f"{where}: docs {shown}, actual {actual}"
    else:
        assert shown == actual, f"{where}: docs {shown!r}, actual {actual!r}"


def test_the_worked_example_matches_the_command(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    sends, events = write_example(tmp_path)
    result = run_cli(
        "lift", "--sends", str(sends), "--events", str(events), "--campaign", "spring",
        "--holdout", "10%", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    _compare(_documented(), result.json(), "document")
