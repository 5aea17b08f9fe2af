"""Every ```console block of README.md and docs/cli.md is run, and its output compared.

The convention (docs/cli.md, "Examples in these docs"):

- A block is a terminal session: a line starting with `$ ` is a command, run by bash in the
  file's example folder; the lines up to the next command are what it prints (stdout and stderr
  together, in order). Trailing spaces and trailing blank lines do not count.
- The blocks of one file run in order, in one fresh folder holding a copy of `docs/examples/`,
  with `tagtrail` (and `.venv/bin/tagtrail`) the command under test and a real `tagtrail serve`
  started there first, on a free port and the folder's `./tagtrail-data`:
  `http://127.0.0.1:8080` in a block means that server. A block whose command is
  `tagtrail serve …` is that server's start: its expected output is compared with what the
  server printed.
- `…` in an expected line stands for any text on that line (codes, keys, times, dates).
- `127.0.0.1:8081` (http) and `127.0.0.1:8443` (https) are the checker's redirect-chain site
  (nginx, tests/check/loopback.py: `/ls/click`, `/ls/strip`, `/go/…`, `/landing/…`), and
  `ca.pem` in the folder is the certificate of its CA. Files of docs/examples/ name them so too.
- Output that is one JSON document is compared as data (layout free); `…` in an expected string
  stands for any text in it, and the string `"…"` for any value.
- A block right after `<!-- example: not run (REASON) -->` is skipped; the REASON is required.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from harness.live import free_port, stop_process, wait_for_port

from tests.check.loopback import Nginx, running_nginx

ROOT = Path(__file__).resolve().parents[1]
FILES = ("README.md", "docs/cli.md")
EXAMPLES = ROOT / "docs" / "examples"
BIN = Path(sys.executable).parent
DEFAULT_ORIGIN = "http://127.0.0.1:8080"
#: The checker's nginx site (tests/check/loopback.py) as the examples name it.
CHAIN_HTTP, CHAIN_HTTPS = "127.0.0.1:8081", "127.0.0.1:8443"
_BLOCK = re.compile(
    r"(?:<!-- example: not run \((?P<reason>[^)]*)\) -->\n)?```console\n(.*?)```", re.S
)


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    steps: list[Step]
    skip: str | None


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        steps: list[Step] = []
        for line in match.group(2).splitlines():
            if line.startswith("$ "):
                steps.append(Step(line[2:]))
            elif steps:
                steps[-1].expected.append(line)
            else:
                raise AssertionError(f"{path.name}: a console block must start with `$ `")
        line = text[: match.start()].count("\n") + 1
        found.append(Block(line, steps, match.group("reason")))
    return found


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split("…")), re.S)


def _same_json(expected: Any, actual: Any) -> bool:
    if expected == "…":
        return True
    if isinstance(expected, str) and isinstance(actual, str):
        return _pattern(expected).fullmatch(actual) is not None
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            _same_json(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same_json, expected, actual))
    return bool(expected == actual and type(expected) is type(actual))


def matches(expected: list[str], actual: str) -> bool:
    """Does `actual` read as `expected` (the convention above)?"""
    want, got = _lines("\n".join(expected)), _lines(actual)
    if want and want[0].startswith(("{", "[")):
        try:
            return _same_json(json.loads("\n".join(want)), json.loads("\n".join(got)))
        except ValueError:
            pass
    return len(want) == len(got) and all(
        _pattern(w).fullmatch(g) is not None for w, g in zip(want, got, strict=True)
    )


@dataclass
class Session:
    folder: Path
    origin: str
    started: str  # what `tagtrail serve` printed on start
    chains: Nginx

    def to_real(self, text: str) -> str:
        """The examples' addresses → the running servers'."""
        return (
            text.replace(DEFAULT_ORIGIN, self.origin)
            .replace(CHAIN_HTTP, f"127.0.0.1:{self.chains.http}")
            .replace(CHAIN_HTTPS, f"127.0.0.1:{self.chains.https}")
        )

    def to_docs(self, text: str) -> str:
        return (
            text.replace(self.origin, DEFAULT_ORIGIN)
            .replace(f"127.0.0.1:{self.chains.http}", CHAIN_HTTP)
            .replace(f"127.0.0.1:{self.chains.https}", CHAIN_HTTPS)
        )

    def run(self, command: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAGTRAIL_")}
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1")
        env.update(COLUMNS="100", TERM="dumb", NO_COLOR="1")
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", self.to_real(command)],
            cwd=self.folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        return self.to_docs(done.stdout)


def _serve_command(path: Path) -> str:
    for block in blocks(path):
        for step in block.steps:
            if step.command.startswith("tagtrail serve"):
                return step.command
    return "tagtrail serve"


@pytest.fixture(params=FILES)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Session]]:
    with contextlib.ExitStack() as stack:
        yield from _session(stack, ROOT / request.param, tmp_path)


def _session(
    stack: contextlib.ExitStack, path: Path, tmp_path: Path
) -> Iterator[tuple[Path, Session]]:
    folder = tmp_path / "example"
    shutil.copytree(EXAMPLES, folder)
    (folder / ".venv").symlink_to(BIN.parent)
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    chains = stack.enter_context(running_nginx(nginx_dir))
    chains.ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    port = free_port()
    command = re.sub(r"--port \d+", "", _serve_command(path)).split()[1:]
    out_path, err_path = tmp_path / "serve.out", tmp_path / "serve.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAGTRAIL_")}
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(BIN / "tagtrail"), *command, "--port", str(port)],
            cwd=folder,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"},
        )
    try:
        wait_for_port(port, proc, err_path)
        # `serving on` is printed once a worker answers, which is a moment after the port does.
        deadline = time.monotonic() + 30
        while "serving on" not in out_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        origin = f"http://127.0.0.1:{port}"
        started = out_path.read_text().replace(origin, DEFAULT_ORIGIN)
        running = Session(folder, origin, started, chains)
        for example in folder.iterdir():
            if example.is_file() and example.suffix in (".txt", ".csv"):
                example.write_text(running.to_real(example.read_text()))
        yield path, running
    finally:
        stop_process(proc)


def test_every_console_example_prints_what_the_docs_show(session: tuple[Path, Session]) -> None:
    path, running = session
    failures = []
    ran = 0
    for block in blocks(path):
        if block.skip is not None:
            assert block.skip.strip(), f"{path.name}:{block.line}: say why the block is not run"
            continue
        for step in block.steps:
            if step.command.startswith("tagtrail serve"):
                actual = running.started
            else:
                actual = running.run(step.command)
            ran += 1
            if not matches(step.expected, actual):
                failures.append(
                    f"{path.name}:{block.line}: $ {step.command}\n--- the docs show:\n"
                    + "\n".join(step.expected)
                    + f"\n--- it printed:\n{actual}"
                )
    assert ran > 0
    assert not failures, "\n\n".join(failures)


def test_the_matching_rules(tmp_path: Path) -> None:
    assert matches(["http://x/…?r=…", ""], "http://x/abc?r=tok.sig  \n\n")
    assert not matches(["total 1 · human 1 · bot 0"], "total 1 · human 0 · bot 1")
    assert not matches(["one"], "one\ntwo")
    assert matches(['{"a": 1, "b": ["x…"]}'], '{\n  "a": 1,\n  "b": ["xyz"]\n}')
    assert not matches(['{"a": 1}'], '{"a": 1, "b": 2}')
    assert not matches(['{"a": 1}'], '{"a": true}')
    skipped = "<!-- example: not run (needs nginx) -->\n```console\n$ tagtrail check x\nout\n```\n"
    readme = tmp_path / "blocks.md"
    readme.write_text(skipped + "```console\n$ echo hi\nhi\n```\n", encoding="utf-8")
    found = blocks(readme)
    assert [(b.skip, [s.command for s in b.steps]) for b in found] == [
        ("needs nginx", ["tagtrail check x"]),
        (None, ["echo hi"]),
    ]
    assert found[1].steps[0].expected == ["hi"]
