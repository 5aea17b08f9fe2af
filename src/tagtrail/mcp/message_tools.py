"""Tools on campaign messages (DESIGN §9): they answer what `tagtrail messages create --json`
and `tagtrail messages stats --json` print, on the local store or a server (--api)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from tagtrail.mcp.backends import Backends
from tagtrail.mcp.errors import cli_errors, json_tool
from tagtrail.service.messages import MessageSpec


def register(server: MCPServer, backends: Backends) -> None:
    """Add the message tools to `server`; they act on `backends`."""

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
    @json_tool
    def create_message(
        campaign: Annotated[str, Field(description="The campaign the links belong to.")],
        channel: Annotated[Literal["email", "sms"], Field(description="email or sms.")],
        body: Annotated[str, Field(description="The email's HTML or the SMS text.")],
        name: Annotated[str | None, Field(description="A name for the message.")] = None,
        preset: Annotated[
            str | None, Field(description="A sending tool's source and medium (intercom, …).")
        ] = None,
        source: Annotated[str | None, Field(description="utm_source.")] = None,
        medium: Annotated[str | None, Field(description="utm_medium [the channel].")] = None,
        holdout: Annotated[
            str | None, Field(description="Share held out: 10% or 10 [the campaign's].")
        ] = None,
    ) -> dict[str, Any]:
        """Store a message, as `tagtrail messages create`: each trackable link of the body
        becomes a short link of the campaign. Returns {"message", "campaign", "channel",
        "holdout", "links": [{"position", "code", "short_url", "destination", "tracked_url",
        "text"}], "skipped": [{"position", "url", "reason"}], "segments", "warnings", …}."""
        spec = MessageSpec(campaign, channel, body, name, preset, source, medium, holdout)
        with cli_errors():
            return backends.create_message(spec)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    @json_tool
    def message_stats(
        message: Annotated[int, Field(description="The message's id.", ge=1)],
    ) -> dict[str, Any]:
        """A message's results, as `tagtrail messages stats --json`: {"message", "campaign",
        "channel", "sent", "held_out", "clicked", "click_rate", "clicks": {"total", "human",
        "bot"}, "links": [...], "recipients": [{"recipient", "clicks", "first_click_at",
        "positions"}]} (recipients by their address: the store's admin view)."""
        with cli_errors():
            return backends.message_stats(message)
