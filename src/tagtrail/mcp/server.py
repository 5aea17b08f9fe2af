"""The tagtrail MCP server: the library's link, check, store and attribution tools for assistants.

    server, backends = create_server(target, policy)
    server.run("stdio")          # or "streamable-http", host=…, port=…
    backends.close()

Built with the official SDK (`mcp.server.mcpserver.MCPServer`; absolute imports reach the SDK,
never this package). Every tool returns the JSON document the matching CLI command prints with
`--json`, and fails with that command's error document as an MCP tool error (`isError: true`).
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer

from tagtrail import __version__
from tagtrail.links import NamingPolicy
from tagtrail.mcp import attribution_tools, link_tools, message_tools, store_tools
from tagtrail.mcp.backends import Backends
from tagtrail.service.backends import Target

INSTRUCTIONS = """\
tagtrail builds campaign links you can trust and the attribution they earn.
- build_link / lint_links apply the naming policy (resource tagtrail://policy) and predict the GA4
  channel; classify_visit says which GA4 rule decides a visit's channel.
- check_link follows a link's redirects and says whether its UTMs survive every hop.
- create_short_link, recipient_link, link_stats, campaign_stats and profile act on the tagtrail
  store (local, or a running server).
- attribute compares attribution models (resource tagtrail://models) on an events file.
A failed call is a tool error whose text is JSON: {"ok": false, "error", "errors", "status"}.
"""


def policy_document(policy: NamingPolicy) -> dict[str, Any]:
    """The naming policy in force, as JSON (the `[naming]` and `[presets.*]` of tagtrail.toml)."""
    return {
        "naming": {
            "separator": policy.separator,
            "lowercase": policy.lowercase,
            "max_length": policy.max_length,
            "required": sorted(policy.required),
            "allowed": {field: sorted(values) for field, values in sorted(policy.allowed.items())},
        },
        "presets": {
            name: {
                "source": p.source,
                "medium": p.medium,
                "channel": p.channel,
                "description": p.description,
            }
            for name, p in sorted(policy.presets.items())
        },
    }


def create_server(
    target: Target, policy: NamingPolicy, *, log_level: str = "WARNING"
) -> tuple[MCPServer, Backends]:
    """The server and the backends it opens on first use (close them when it stops)."""
    backends = Backends(target)
    server: MCPServer = MCPServer(
        "tagtrail",
        title="tagtrail",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level=log_level.upper(),  # type: ignore[arg-type]
    )
    link_tools.register(server, policy)
    store_tools.register(server, backends)
    message_tools.register(server, backends)
    attribution_tools.register(server)

    @server.resource(
        "tagtrail://policy",
        name="naming-policy",
        description="The naming policy build_link and lint_links apply, with its presets.",
        mime_type="application/json",
    )
    def naming_policy() -> str:
        return json.dumps(policy_document(policy), ensure_ascii=False, indent=2)

    return server, backends
