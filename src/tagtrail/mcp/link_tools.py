"""Tools that need no store: build_link, lint_links, classify_visit, check_link."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from tagtrail import links
from tagtrail.channels import RULESETS
from tagtrail.check import Guard, acheck_url
from tagtrail.links import NamingPolicy
from tagtrail.mcp.errors import ToolFailure, cli_errors, json_tool, json_tool_async
from tagtrail.service.visits import channel_document

Ruleset = Literal["ga4", "ga4-2026"]
assert set(RULESETS) == {"ga4", "ga4-2026"}, "update Ruleset when channels.RULESETS changes"

_PURE = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)

Value = Annotated[str | None, Field(description="Leave out to keep the destination's own value.")]


def register(server: MCPServer, policy: NamingPolicy) -> None:
    """Add the store-free tools to `server`; `policy` is the naming policy they apply."""

    @server.tool(annotations=_PURE)
    @json_tool
    def build_link(
        url: Annotated[str, Field(description="The destination (landing page), http or https.")],
        source: Annotated[str | None, Field(description="utm_source: who sends the traffic.")] = (
            None
        ),
        medium: Annotated[
            str | None, Field(description="utm_medium: the kind of traffic (email, cpc, social).")
        ] = None,
        campaign: Annotated[str | None, Field(description="utm_campaign: the campaign.")] = None,
        id: Annotated[str | None, Field(description="utm_id: the campaign id.")] = None,
        term: Annotated[str | None, Field(description="utm_term: the paid keyword.")] = None,
        content: Annotated[str | None, Field(description="utm_content: the variant.")] = None,
        source_platform: Value = None,
        creative_format: Value = None,
        marketing_tactic: Value = None,
        preset: Annotated[
            str | None,
            Field(description="Fill source and medium for a platform (intercom, mailchimp, …)."),
        ] = None,
    ) -> dict[str, Any]:
        """Build a tracked campaign link with the naming policy and predict its GA4 channel.

        Returns {"status": "ok"|"warning", "tracked_url", "channel", "issues": [...]} (as
        `tagtrail build --json`). A link with errors (e.g. a javascript: URL, a missing medium)
        is a tool error whose text is that same document with status "error"."""
        values = {
            "source": source,
            "medium": medium,
            "campaign": campaign,
            "id": id,
            "term": term,
            "content": content,
            "source_platform": source_platform,
            "creative_format": creative_format,
            "marketing_tactic": marketing_tactic,
        }
        with cli_errors():
            if preset is not None:
                chosen = policy.preset(preset)
                values["source"] = source if source is not None else chosen.source
                values["medium"] = medium if medium is not None else chosen.medium
            result = links.build_link(url, policy=policy, **values).to_json()
        if result["status"] == "error":
            raise ToolFailure(result)
        return result

    @server.tool(annotations=_PURE)
    @json_tool
    def lint_links(
        urls: Annotated[
            list[str], Field(min_length=1, description="Tracked URLs to lint, one or more.")
        ],
    ) -> dict[str, Any]:
        """Report problems in existing tracked URLs without rewriting them: for each, its status,
        GA4 channel, the builder's issues and the normalised URL it would suggest.

        Returns {"results": [...], "summary": {"checked", "ok", "warning", "error"}}, as
        `tagtrail lint --json` prints for several URLs. URLs with errors are reported, not
        refused."""
        with cli_errors():
            results = [links.lint_link(url, policy=policy) for url in urls]
        summary = {"checked": len(results), "ok": 0, "warning": 0, "error": 0}
        for result in results:
            summary[result.status] += 1
        return {"results": [r.to_json() for r in results], "summary": summary}

    @server.tool(annotations=_PURE)
    @json_tool
    def classify_visit(
        url: Annotated[
            str | None,
            Field(description="Landing URL of the visit (its UTMs and click ids are read)."),
        ] = None,
        referrer: Annotated[str | None, Field(description="Referrer of the visit (with url).")] = (
            None
        ),
        site_hosts: Annotated[
            list[str] | None,
            Field(description="Your own hosts: a referrer from one (or a subdomain) is direct."),
        ] = None,
        source: Annotated[str | None, Field(description="utm_source (with medium).")] = None,
        medium: Annotated[str | None, Field(description="utm_medium (with source).")] = None,
        campaign: Annotated[str | None, Field(description="utm_campaign (optional).")] = None,
        ruleset: Annotated[
            Ruleset,
            Field(description="GA4's rules of late 2023, or with the 2026 AI Assistant channel."),
        ] = "ga4",
        infer_click_ids: Annotated[
            bool, Field(description="Map non-Google click ids (msclkid, ttclid…) to paid.")
        ] = False,
    ) -> dict[str, Any]:
        """Predict the GA4 default channel of a visit and say which rule decides it (DESIGN §5).

        Give either url (+ referrer, site_hosts) or source and medium (+ campaign). Returns
        {"source", "medium", "campaign", "content", "term", "click_id", "channel", "rule",
        "ruleset"}, as `tagtrail channel --json`."""
        with cli_errors():
            doc, _reason = channel_document(
                url,
                referrer,
                tuple(site_hosts or ()),
                source,
                medium,
                campaign,
                ruleset=ruleset,
                infer_click_ids=infer_click_ids,
            )
        return doc

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=True))
    @json_tool_async
    async def check_link(
        url: Annotated[str, Field(description="The link to follow (http or https).")],
        max_hops: Annotated[
            int, Field(ge=0, le=100, description="Most redirects to follow before failing.")
        ] = 10,
        timeout: Annotated[
            float, Field(gt=0, le=600, description="Seconds allowed for the whole chain.")
        ] = 10.0,
    ) -> dict[str, Any]:
        """Follow a link's redirect chain and check, hop by hop, that its UTMs survive.

        Private, loopback and other internal addresses are always refused (the SSRF guard, as
        `tagtrail check --guard`). Returns the report of `tagtrail check --guard --json URL`:
        {"url", "valid", "final_url", "hops": [...], "checks": [...]}."""
        with cli_errors():
            report = await acheck_url(url, max_hops=max_hops, timeout=timeout, guard=Guard())
        return report.to_json()
