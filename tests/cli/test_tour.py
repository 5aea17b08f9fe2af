"""`make tour` (scripts/tour.sh) prints each command so that it can be copied and run, and
`make run` says where the CLI is (it is not on PATH)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TAGTRAIL = Path(sys.executable).parent / "tagtrail"


def test_the_tour_prints_commands_quoted_for_the_shell() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "tour.sh"), str(TAGTRAIL)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    shown = [
        re.sub(r"\x1b\[[0-9;]*m", "", line)[2:]
        for line in done.stdout.splitlines()
        if line.startswith("\x1b[1m$ ")
    ]
    assert len(shown) >= 6, done.stdout + done.stderr
    argv = [shlex.split(line) for line in shown]
    assert argv[0] == [
        "tagtrail", "build", "--url", "https://example.com/pricing", "--preset", "intercom",
        "--campaign", "Onboarding Series",
    ]  # fmt: skip
    lint = next(a for a in argv if a[1] == "lint")
    assert lint[2] == "https://Example.com/p?utm_source=Intercom.com&utm_medium=in-app&gclid=x"
    check = next(a for a in argv if a[1] == "check")
    assert check[2].endswith("/docs?utm_source=intercom&utm_medium=email&utm_campaign=welcome")


def test_make_run_says_where_the_cli_is() -> None:
    done = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ".venv/bin/tagtrail" in done.stdout and ".venv/bin/activate" in done.stdout
