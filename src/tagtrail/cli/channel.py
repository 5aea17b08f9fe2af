"""`tagtrail channel`: the GA4 channel of a landing URL (+ referrer) or of a source / medium."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from tagtrail.channels import RULESETS
from tagtrail.cli.output import emit_json, json_option, stdout_console
from tagtrail.service.visits import channel_document


def _render(doc: dict[str, Any], reason: str) -> None:
    rows: list[tuple[str, str]] = [
        ("Channel", doc["channel"]),
        ("Source / medium", f"{doc['source']} / {doc['medium']}"),
        ("Campaign", doc["campaign"]),
    ]
    for label, key in (("Content", "content"), ("Term", "term"), ("Click id", "click_id")):
        if doc[key] is not None:
            rows.append((label, doc[key]))
    rows.append(("Why", reason))
    rows.append(("Rule", f"{doc['rule']} (ruleset {doc['ruleset']})"))
    console = stdout_console()
    for label, value in rows:
        style = "bold green" if label == "Channel" else ""
        console.print(Text.assemble((f"{label:<17}", "bold"), (value, style)))


@click.command("channel")
@click.option("--url", metavar="URL", help="Landing URL (its UTMs and click ids are read).")
@click.option("--referrer", metavar="URL", help="Referrer of the visit (with --url).")
@click.option(
    "--site-host",
    "site_hosts",
    metavar="HOST",
    multiple=True,
    help="Your own host: a referrer from it (or a subdomain) is direct. Repeatable.",
)
@click.option("--source", metavar="S", help="utm_source to classify (with --medium).")
@click.option("--medium", metavar="M", help="utm_medium to classify (with --source).")
@click.option("--campaign", metavar="C", help="utm_campaign (optional, with --source).")
@click.option(
    "--ruleset",
    type=click.Choice(RULESETS),
    default=RULESETS[0],
    show_default=True,
    help="GA4's rules as of late 2023 (ga4) or with the 2026 AI Assistant channel (ga4-2026).",
)
@click.option(
    "--infer-click-ids",
    is_flag=True,
    help="Map non-Google click ids (msclkid, ttclid, …) to paid channels (GA4 ignores them).",
)
@json_option
def channel(
    url: str | None,
    referrer: str | None,
    site_hosts: tuple[str, ...],
    source: str | None,
    medium: str | None,
    campaign: str | None,
    ruleset: str,
    infer_click_ids: bool,
    as_json: bool,
) -> None:
    """Predict the GA4 default channel of a visit, and say which rule decides it.

    \b
    tagtrail channel --url 'https://shop.example/?utm_source=facebook&utm_medium=email'
    tagtrail channel --url https://shop.example/ --referrer https://www.google.de/
    tagtrail channel --source newsletter --medium email --campaign black-friday-shop
    """
    doc, reason = channel_document(
        url,
        referrer,
        site_hosts,
        source,
        medium,
        campaign,
        ruleset=ruleset,
        infer_click_ids=infer_click_ids,
    )
    if as_json:
        emit_json(doc)
    else:
        _render(doc, reason)
