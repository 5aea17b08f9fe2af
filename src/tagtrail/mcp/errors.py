"""Tool results and tool errors: the CLI's `--json` documents, as MCP tool results.

`json_tool` wraps a tool that returns a JSON document: the result's text is that document as
`tagtrail … --json` prints it, and its `structuredContent` the same object. A failure the CLI
reports comes back as an MCP tool error (`isError: true`) whose text and `structuredContent`
are the document the CLI prints for it: `{"ok": false, "error", "errors", "status"}` (status 1
for a `TagtrailError`, 2 for a usage error), plus `issues` for a link the builder refused.
Anything else is left to the SDK, which answers with an error result and keeps serving.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec

from mcp.types import CallToolResult, TextContent

from tagtrail.errors import InvalidLink, InvalidOptions, TagtrailError, document_of, error_document

logger = logging.getLogger(__name__)

P = ParamSpec("P")


class ToolFailure(Exception):
    """A tool's answer that is an error: `document` is what the client reads."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(document.get("error", "tool failed"))
        self.document = document


def refused_document(exc: InvalidLink) -> dict[str, Any]:
    """The body of a refused link: the error and the builder's issues (as `links create`)."""
    document = document_of(exc, status=1)
    document.setdefault("issues", [])
    return document


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn what the CLI reports as an error into a `ToolFailure` with the same document
    (status 2 for options the CLI calls a usage error, 1 for any other `TagtrailError`)."""
    try:
        yield
    except InvalidLink as exc:
        raise ToolFailure(refused_document(exc)) from exc
    except InvalidOptions as exc:
        raise ToolFailure(error_document(exc.usage_message(), status=2)) from exc
    except TagtrailError as exc:
        raise ToolFailure(document_of(exc, status=1)) from exc


def _result(document: dict[str, Any], *, error: bool) -> CallToolResult:
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=document,
        is_error=error,
    )


def _failed(name: str, exc: ToolFailure) -> CallToolResult:
    logger.info("tool %s failed: %s", name, exc)
    return _result(exc.document, error=True)


def json_tool(fn: Callable[P, dict[str, Any]]) -> Callable[P, CallToolResult]:
    """Wrap a tool returning a document (the SDK reads the schema from `fn`'s signature)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> CallToolResult:
        try:
            return _result(fn(*args, **kwargs), error=False)
        except ToolFailure as exc:
            return _failed(fn.__name__, exc)

    return wrapper


def json_tool_async(
    fn: Callable[P, Awaitable[dict[str, Any]]],
) -> Callable[P, Awaitable[CallToolResult]]:
    """`json_tool` for a coroutine function."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> CallToolResult:
        try:
            return _result(await fn(*args, **kwargs), error=False)
        except ToolFailure as exc:
            return _failed(fn.__name__, exc)

    return wrapper
