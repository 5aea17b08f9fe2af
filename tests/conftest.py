"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tagtrail.cli import main


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """No TAGTRAIL_* variable of the developer's shell leaks into a test."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("TAGTRAIL_")}
    for key in saved:
        del os.environ[key]
    yield
    for key in [k for k in os.environ if k.startswith("TAGTRAIL_")]:
        del os.environ[key]
    os.environ.update(saved)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `tagtrail ARGS…` in-process through the same entry point as the console script."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
