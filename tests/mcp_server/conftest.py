"""A `tagtrail mcp` server driven by the SDK's own client, over stdio or streamable HTTP.

The client lives in a blocking portal (a thread running an event loop), so plain tests call
`session.call(name, arguments)` and several tests share one server process per module.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from harness.live import stop_process, wait_for_port
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from tagtrail.service.backends import migrate_store
from tagtrail.settings import Settings

TAGTRAIL = Path(sys.executable).parent / "tagtrail"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAGTRAIL_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


@dataclass
class Answer:
    """A tool result: `error` is MCP's isError, `doc` the JSON document of its text."""

    error: bool
    doc: Any
    result: CallToolResult


@dataclass
class Session:
    portal: BlockingPortal
    client: Client
    transport: str
    root: Path

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> Answer:
        result = self.portal.call(self.client.call_tool, name, arguments or {})
        text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
        try:
            doc = json.loads(text)
        except ValueError:
            doc = text
        return Answer(bool(result.is_error), doc, result)

    def tools(self) -> dict[str, Any]:
        listed = self.portal.call(self.client.list_tools)
        return {tool.name: tool for tool in listed.tools}

    def read(self, uri: str) -> Any:
        found = self.portal.call(self.client.read_resource, uri)
        return json.loads(found.contents[0].text)  # type: ignore[union-attr]


@dataclass
class HttpServer:
    proc: subprocess.Popen[bytes]
    url: str
    stderr: Path


def start_http(args: list[str], cwd: Path) -> HttpServer:
    port = free_port()
    err_path = cwd / "mcp-stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(TAGTRAIL), "mcp", "--http", "--port", str(port), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=clean_env(),
        )
    try:
        wait_for_port(port, proc, err_path, what="tagtrail mcp")
    except BaseException:
        stop_process(proc)
        raise
    return HttpServer(proc, f"http://127.0.0.1:{port}/mcp", err_path)


def open_session(stack: ExitStack, transport: str, args: list[str], cwd: Path) -> Session:
    """Start `tagtrail mcp ARGS` (stdio, or --http on a free port) and connect a client."""
    portal = stack.enter_context(start_blocking_portal())
    if transport == "stdio":
        target: str | StdioServerParameters = StdioServerParameters(
            command=str(TAGTRAIL), args=["mcp", *args], env=clean_env(), cwd=cwd
        )
    else:
        server = start_http(args, cwd)
        stack.callback(stop_process, server.proc)
        target = server.url
    client = stack.enter_context(portal.wrap_async_context_manager(Client(target)))
    return Session(portal, client, transport, cwd)


@pytest.fixture(scope="module", params=["stdio", "http"])
def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Session]:
    """`tagtrail mcp --data-dir ROOT/data` over each transport (`session.root`: ROOT)."""
    root = tmp_path_factory.mktemp(f"mcp-{request.param}")
    migrate_store(Settings(data_dir=root / "data"))  # the tables; the first write makes the rest
    with ExitStack() as stack:
        yield open_session(stack, request.param, ["--data-dir", str(root / "data")], root)
