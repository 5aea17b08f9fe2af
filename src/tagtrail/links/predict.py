"""The GA4 channel a link will land in, and the warnings that prediction raises (DESIGN §4)."""

from __future__ import annotations

import re
from functools import lru_cache

from tagtrail.channels import channel_for, is_paid_medium
from tagtrail.links.issues import Issue, issue

_DOMAIN = re.compile(r"([a-z0-9-]+\.)+[a-z]{2,}")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})
#: Channels a medium names on its own (source `(not set)`), which a source can take away.
_MEDIUM_CHANNELS = frozenset(
    {
        "Email",
        "Affiliates",
        "Audio",
        "SMS",
        "Mobile Push Notifications",
        "Display",
        "Organic Search",
        "Organic Video",
        "Organic Social",
    }
)
#: What to use instead of a medium GA4 does not recognise, by a word it contains.
_MEDIUM_HINTS = (
    ("in-app", "app", "GA4 counts `app` as Referral"),
    ("mail", "email", "GA4 counts `email` as Email"),
    ("newsletter", "email", "GA4 counts `email` as Email"),
    ("sms", "sms", "GA4 counts exactly `sms` as SMS"),
    ("text", "sms", "GA4 counts exactly `sms` as SMS"),
    ("whatsapp", "sms", "GA4 counts exactly `sms` as SMS"),
    ("social", "social", "GA4 counts `social` as Organic Social"),
    ("affiliate", "affiliate", "GA4 counts exactly `affiliate` as Affiliates"),
    ("partner", "affiliate", "GA4 counts exactly `affiliate` as Affiliates"),
    ("podcast", "audio", "GA4 counts exactly `audio` as Audio"),
    ("radio", "audio", "GA4 counts exactly `audio` as Audio"),
    ("banner", "display", "GA4 counts `display` as Display"),
    ("ad", "cpc", "GA4 treats mediums containing `cp` (cpc, cpm) as paid"),
)
_GA4_MEDIUMS = "email, sms, social, cpc, display, affiliate, referral, app, audio, push, organic"


@lru_cache(maxsize=65536)
def predict_channel(
    source: str | None, medium: str | None, campaign: str | None
) -> tuple[str | None, tuple[Issue, ...]]:
    """GA4's channel for normalised UTM values (None without source and medium) and warnings."""
    found: list[Issue] = []
    if source is not None and _DOMAIN.fullmatch(source):
        name = platform_name(source)
        found.append(
            issue(
                "W_DOMAIN_AS_SOURCE",
                "source",
                f"source `{source}` is a domain name; GA4 matches sources as platform names "
                f"(`google`, not `google.com`), so reports split and channels can be wrong",
                f"use the platform's name: --source {name}",
                fix=name,
            )
        )
    if source is None or medium is None:
        return None, tuple(found)
    channel = channel_for(source, medium, campaign)
    base = channel_for(source, medium)
    if channel == "Unassigned":
        found.append(_unassigned(source, medium))
    if campaign is not None and channel != base:
        found.append(
            issue(
                "W_CAMPAIGN_OVERRIDES_CHANNEL",
                "campaign",
                f"campaign `{campaign}` makes GA4 classify the link as {channel} instead of "
                f"{base} (names containing `shop`, `shopping` or `cross-network` change the "
                "channel)",
                "rename the campaign unless that channel is intended",
            )
        )
    alone = channel_for("(not set)", medium)
    paid_refinement = base.startswith("Paid ") and is_paid_medium(medium)
    if alone in _MEDIUM_CHANNELS and base != alone and not paid_refinement:
        found.append(
            issue(
                "W_SOURCE_OVERRIDES_MEDIUM",
                "source",
                f"medium `{medium}` means {alone}, but GA4 checks source `{source}` first and "
                f"files the link as {base}",
                "use the sending tool or publisher as the source (e.g. `newsletter`, `intercom`)",
            )
        )
    return channel, tuple(found)


def platform_name(host: str) -> str:
    """`intercom.com` → `intercom`, `m.facebook.com` → `facebook`, `bbc.co.uk` → `bbc`."""
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2]


def _unassigned(source: str, medium: str) -> Issue:
    for word, better, why in _MEDIUM_HINTS:
        if word in medium:
            return issue(
                "W_UNASSIGNED",
                "medium",
                f"GA4 has no channel for source `{source}` with medium `{medium}`: the visits "
                "land in Unassigned",
                f"use --medium {better} ({why})",
                fix=better,
            )
    return issue(
        "W_UNASSIGNED",
        "medium",
        f"GA4 has no channel for source `{source}` with medium `{medium}`: the visits land in "
        "Unassigned",
        f"use a medium GA4 knows: {_GA4_MEDIUMS}",
    )
