"""A visit's GA4 channel and the rule that decides it: the document of `tagtrail channel --json`
and of the MCP `classify_visit` tool (the option names in its errors are the CLI's)."""

from __future__ import annotations

from typing import Any

from tagtrail.channels import explain_channel, traffic_source
from tagtrail.errors import InvalidOptions

_FORMS = (
    "give either --url URL [--referrer R] [--site-host H] or --source S --medium M [--campaign C]"
)


def _check_form(
    url: str | None,
    referrer: str | None,
    site_hosts: tuple[str, ...],
    source: str | None,
    medium: str | None,
    campaign: str | None,
) -> None:
    by_value = [
        name
        for name, value in (("--source", source), ("--medium", medium), ("--campaign", campaign))
        if value is not None
    ]
    if url is not None and by_value:
        raise InvalidOptions(f"--url cannot be combined with {', '.join(by_value)}: {_FORMS}")
    if url is None and not by_value:
        raise InvalidOptions(f"nothing to classify: {_FORMS}")
    if url is None:
        if referrer is not None or site_hosts:
            raise InvalidOptions(f"--referrer and --site-host need --url: {_FORMS}")
        if source is None or medium is None:
            missing = "--source" if source is None else "--medium"
            raise InvalidOptions(f"{missing} is missing: {_FORMS}")


def channel_document(
    url: str | None,
    referrer: str | None,
    site_hosts: tuple[str, ...],
    source: str | None,
    medium: str | None,
    campaign: str | None,
    *,
    ruleset: str,
    infer_click_ids: bool,
) -> tuple[dict[str, Any], str]:
    """The `--json` document of `tagtrail channel` and the reason of its rule (also the MCP
    `classify_visit` tool's answer). Raises `InvalidOptions` for a wrong combination."""
    _check_form(url, referrer, site_hosts, source, medium, campaign)
    doc: dict[str, Any]
    if url is not None:
        found = traffic_source(
            url,
            referrer,
            site_hosts=site_hosts,
            ruleset=ruleset,
            infer_click_ids=infer_click_ids,
        )
        doc = {
            "source": found.source,
            "medium": found.medium,
            "campaign": found.campaign,
            "content": found.content,
            "term": found.term,
            "click_id": found.click_id,
        }
    else:
        doc = {
            "source": source,
            "medium": medium,
            "campaign": campaign if campaign else "(not set)",
            "content": None,
            "term": None,
            "click_id": None,
        }
    why = explain_channel(doc["source"], doc["medium"], doc["campaign"], ruleset=ruleset)
    doc.update(channel=why.channel, rule=why.rule, ruleset=ruleset)
    return doc, why.reason
