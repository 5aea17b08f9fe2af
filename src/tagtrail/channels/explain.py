"""Why a source / medium / campaign lands in its channel: the rule that fired, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tagtrail.channels.referrers import social_network_for
from tagtrail.channels.rules import DEFAULT_RULESET, NOT_SET, classify

__all__ = ["ChannelExplanation", "explain_channel"]

_REASONS: Final = {
    "direct": "source is `(direct)` and medium is `{m}`",
    "campaign-cross-network": "campaign `{c}` contains `cross-network`",
    "medium-ai-assistant": "medium is `ai-assistant` (set for a recognised AI assistant)",
    "source-shopping+paid": "source `{s}` is on GA4's shopping list and medium `{m}` is paid",
    "campaign-shopping+paid": "campaign `{c}` matches the shopping pattern and medium `{m}` "
    "is paid",
    "source-search+paid": "source `{s}` is on GA4's search list and medium `{m}` is paid",
    "source-social+paid": "source `{s}` is on GA4's social list and medium `{m}` is paid",
    "source-video+paid": "source `{s}` is on GA4's video list and medium `{m}` is paid",
    "medium-display": "medium `{m}` is a display medium (display, banner, expandable, "
    "interstitial, cpm)",
    "medium-paid": "medium `{m}` matches the paid pattern and source `{s}` is on no GA4 list",
    "source-shopping": "source `{s}` is on GA4's shopping list",
    "campaign-shopping": "campaign `{c}` matches the shopping pattern",
    "source-social": "source `{s}` is on GA4's social list",
    "medium-social": "medium `{m}` is a social medium",
    "source-video": "source `{s}` is on GA4's video list",
    "medium-video": "medium `{m}` contains `video`",
    "source-search": "source `{s}` is on GA4's search list",
    "medium-organic": "medium is `organic`",
    "medium-referral": "medium `{m}` is a referral medium (referral, app, link)",
    "source-email": "source `{s}` is an email source",
    "medium-email": "medium `{m}` is an email medium",
    "medium-affiliate": "medium is `affiliate`",
    "medium-audio": "medium is `audio`",
    "source-sms": "source is `sms`",
    "medium-sms": "medium is `sms`",
    "medium-push": "medium `{m}` ends with `push`",
    "medium-mobile-notification": "medium `{m}` contains `mobile` or `notification`",
    "source-firebase": "source is `firebase`",
    "unassigned": "no rule matches source `{s}` with medium `{m}`",
}


@dataclass(frozen=True, slots=True)
class ChannelExplanation:
    """A channel, the rule that gave it (a stable id such as `source-social`) and a reason."""

    channel: str
    rule: str
    reason: str
    ruleset: str


def _norm(value: str | None) -> str:
    return (value or "").strip().lower() or NOT_SET


def explain_channel(
    source: str | None,
    medium: str | None,
    campaign: str | None = None,
    *,
    ruleset: str = DEFAULT_RULESET,
) -> ChannelExplanation:
    """The channel `channel_for` gives, with the id of the rule that fired and why.

    >>> explain_channel("facebook", "email").reason
    "source `facebook` is on GA4's social list"
    """
    channel, rule = classify(source, medium, campaign, ruleset)
    s, m, c = _norm(source), _norm(medium), _norm(campaign)
    reason = _REASONS[rule].format(s=s, m=m, c=c)
    if channel in ("Referral", "Unassigned", "Paid Other"):
        network = social_network_for(s)
        if network is not None:
            reason += f" (`{s}` is {network}, a social network, but not on GA4's social list)"
    if rule == "unassigned" and m not in (NOT_SET, "(none)"):
        reason += "; use a medium GA4 knows, e.g. email, social, cpc, referral or affiliate"
    return ChannelExplanation(channel, rule, reason, ruleset)
