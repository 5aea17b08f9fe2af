"""Tools on the store (local, or a server with --api): short links, recipient links, stats and
profiles. They call the CLI's backends, so they answer what `tagtrail links … --json` and
`tagtrail profile --json` print."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from tagtrail.mcp.backends import Backends
from tagtrail.mcp.errors import cli_errors, json_tool
from tagtrail.service.lift import LiftQuery
from tagtrail.service.links import LinkSpec
from tagtrail.service.sends import parse_time

_READ = ToolAnnotations(readOnlyHint=True, openWorldHint=False)

Code = Annotated[str, Field(min_length=1, description="The short link's code (as in /CODE).")]


def register(server: MCPServer, backends: Backends) -> None:
    """Add the store tools to `server`; they act on `backends`."""

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
    @json_tool
    def create_short_link(
        url: Annotated[str, Field(description="The destination URL (http or https).")],
        code: Annotated[
            str | None,
            Field(description="A custom code (1-64 of A-Z a-z 0-9 _ -); random if absent."),
        ] = None,
        source: Annotated[str | None, Field(description="utm_source.")] = None,
        medium: Annotated[str | None, Field(description="utm_medium.")] = None,
        campaign: Annotated[
            str | None,
            Field(
                description="The tagtrail campaign (made on first use); its name is utm_campaign."
            ),
        ] = None,
        content: Annotated[str | None, Field(description="utm_content.")] = None,
        term: Annotated[str | None, Field(description="utm_term.")] = None,
        id: Annotated[str | None, Field(description="utm_id.")] = None,
        tags: Annotated[list[str] | None, Field(description="Tags of the link.")] = None,
        forward_query: Annotated[
            bool, Field(description="Pass the short URL's query on to the destination.")
        ] = False,
        honeypot: Annotated[
            bool, Field(description="A trap link: every click on it counts as a bot.")
        ] = False,
        expires: Annotated[
            str | None,
            Field(description="When it stops redirecting (ISO 8601; UTC if no zone)."),
        ] = None,
    ) -> dict[str, Any]:
        """Create a short link (a tracked redirect) on the store, as `tagtrail links create`.

        Returns the link as the API shows it: {"tracked", "code", "short_url", "url",
        "tracked_url", "utm", "channel", …}. A destination on an excluded domain gets no short
        link ({"tracked": false, …}). A link the builder refuses is a tool error with its
        issues."""
        given = {"source": source, "medium": medium, "content": content, "term": term, "id": id}
        with cli_errors():
            spec = LinkSpec(
                url=url,
                code=code,
                campaign=campaign,
                utm={name: value for name, value in given.items() if value is not None},
                tags=list(tags or ()),
                forward_query=forward_query,
                honeypot=honeypot,
                expires_at=None if expires is None else parse_time(expires, where="--expires"),
            )
            return backends.links(create=True).create_link(spec)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, idempotentHint=True))
    @json_tool
    def recipient_link(
        code: Code,
        recipient: Annotated[
            str, Field(min_length=1, description="An email address or a user id.")
        ],
    ) -> dict[str, Any]:
        """The short link for one recipient (/CODE?r=TOKEN): its clicks are attributed to them.

        Returns {"url"}, as `tagtrail links recipient-url --json`."""
        with cli_errors():
            return {"url": backends.links().recipient_url(code, recipient)}

    @server.tool(annotations=_READ)
    @json_tool
    def link_stats(code: Code) -> dict[str, Any]:
        """Clicks on a short link: total, human, bot, unique, by day and by recipient.

        Returns what `tagtrail links stats --json` prints."""
        with cli_errors():
            return backends.links().link_stats(code)

    @server.tool(annotations=_READ)
    @json_tool
    def campaign_stats(
        campaign: Annotated[str, Field(min_length=1, description="The campaign's name.")],
    ) -> dict[str, Any]:
        """Clicks over every short link of a campaign: total, human, bot, unique, by day and by
        recipient. Returns what GET /api/campaigns/{name}/stats answers."""
        with cli_errors():
            return backends.campaign_stats(campaign)

    @server.tool(annotations=_READ)
    @json_tool
    def campaign_lift(
        campaign: Annotated[str, Field(min_length=1, description="The campaign's name.")],
        goal: Annotated[str, Field(min_length=1, description="The goal (a track event name).")],
        window_days: Annotated[
            float, Field(gt=0, le=366, description="A conversion counts within this many days.")
        ] = 7,
        level: Annotated[float, Field(ge=0.5, lt=1, description="Confidence level.")] = 0.95,
        holdout: Annotated[
            str | None,
            Field(description="The share meant to be held out (10%), for the sample-ratio check."),
        ] = None,
    ) -> dict[str, Any]:
        """Did the campaign cause the conversions? Its treated recipients against its held-out
        ones (DESIGN §10): both groups, the absolute and relative lift with intervals, p-value,
        probability of being better, incremental conversions and value, the sample-ratio
        check, the minimum detectable effect, and the conversions each attribution model
        credits to the campaign over the same recipients. Returns what `tagtrail lift --json`
        prints and GET /api/campaigns/{name}/lift answers; docs/lift.md defines each figure."""
        with cli_errors():
            window = round(window_days * 86_400)
            return backends.campaign_lift(LiftQuery(campaign, goal, window, level, holdout))

    @server.tool(annotations=_READ)
    @json_tool
    def profile(
        user: Annotated[str, Field(min_length=1, description="The user id.")],
    ) -> dict[str, Any]:
        """A user's first-touch (initial_*) and last non-direct touch (last_*) profile, over
        every device and alias merged into the user. Returns what `tagtrail profile --json`
        prints."""
        with cli_errors():
            return backends.collect().profile(user)
