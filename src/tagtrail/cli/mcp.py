"""`tagtrail mcp`: the MCP server (stdio, or streamable HTTP with --http) over the same library."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from tagtrail.cli.output import stderr_console
from tagtrail.cli.policy import policy_option, resolve_policy
from tagtrail.cli.targets import backend_options
from tagtrail.service.backends import Target

logger = logging.getLogger(__name__)


@click.command("mcp")
@click.option(
    "--http",
    "http",
    is_flag=True,
    help="Serve MCP's streamable HTTP transport on --host/--port (path /mcp) instead of stdio.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on with --http."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on with --http.",
)
@policy_option
@backend_options
def mcp(http: bool, host: str, port: int, policy_path: Path | None, target: Target) -> None:
    """Serve tagtrail's tools to AI assistants over the Model Context Protocol.

    \b
    tagtrail mcp --data-dir ./tagtrail-data          # stdio, for Claude Desktop and others
    tagtrail mcp --api http://127.0.0.1:8080 --key tt_admin_…
    tagtrail mcp --http --port 8765                  # http://127.0.0.1:8765/mcp

    Tools: build_link, lint_links, classify_visit, check_link (always with the SSRF guard),
    create_short_link, recipient_link, link_stats, campaign_stats, attribute, profile.
    Resources: tagtrail://policy and tagtrail://models. docs/mcp.md has the details.
    """
    from tagtrail.mcp import create_server

    policy = resolve_policy(policy_path)
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    server, backends = create_server(target, policy, log_level=level)
    try:
        if http:
            stderr_console().print(f"tagtrail mcp serving on http://{host}:{port}/mcp")
            server.run("streamable-http", host=host, port=port)
        else:
            server.run("stdio")
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has already shut down gracefully
        logger.info("tagtrail mcp interrupted")
    finally:
        backends.close()
