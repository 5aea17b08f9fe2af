"""tagtrail as an MCP server: `create_server(target, policy)` (see `tagtrail.mcp.server`).

The modules here never shadow the `mcp` SDK: with absolute imports, `import mcp` is always the
SDK and this package is `tagtrail.mcp`.
"""

from __future__ import annotations

from tagtrail.mcp.server import create_server

__all__ = ["create_server"]
