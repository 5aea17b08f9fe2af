"""Built-in presets: the source and medium each sending platform should use.

Each preset names the GA4 channel it is meant to land in; a test holds every preset to it.
Sources are platform names as GA4's source list spells them (`facebook`, not `facebook.com`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    """Source and medium for one kind of send, and the GA4 channel they produce."""

    source: str
    medium: str
    channel: str
    description: str


PRESETS: dict[str, Preset] = {
    "intercom": Preset("intercom", "email", "Email", "Intercom emails (series, outbound)"),
    "intercom-push": Preset(
        "intercom", "push", "Mobile Push Notifications", "Intercom mobile push messages"
    ),
    "intercom-in-app": Preset(
        "intercom", "app", "Referral", "Intercom in-app messages (GA4 counts `app` as Referral)"
    ),
    "instasent": Preset("instasent", "sms", "SMS", "Instasent SMS campaigns"),
    "mixpanel": Preset("mixpanel", "email", "Email", "Mixpanel messages sent by email"),
    "customer-io": Preset("customerio", "email", "Email", "Customer.io emails"),
    "mailchimp": Preset("mailchimp", "email", "Email", "Mailchimp campaigns"),
    "klaviyo": Preset("klaviyo", "email", "Email", "Klaviyo emails"),
    "hubspot": Preset("hubspot", "email", "Email", "HubSpot marketing emails"),
    "sendgrid": Preset("sendgrid", "email", "Email", "SendGrid marketing emails"),
    "newsletter": Preset("newsletter", "email", "Email", "your own newsletter"),
    "twilio": Preset("twilio", "sms", "SMS", "Twilio text messages"),
    "onesignal": Preset("onesignal", "push", "Mobile Push Notifications", "OneSignal pushes"),
    "firebase": Preset("firebase", "push", "Mobile Push Notifications", "Firebase messages"),
    "google-ads": Preset("google", "cpc", "Paid Search", "Google Ads search (prefer auto-tagging)"),
    "microsoft-ads": Preset("bing", "cpc", "Paid Search", "Microsoft Advertising search ads"),
    "facebook-ads": Preset("facebook", "cpc", "Paid Social", "Meta ads on Facebook"),
    "instagram-ads": Preset("instagram", "cpc", "Paid Social", "Meta ads on Instagram"),
    "linkedin-ads": Preset("linkedin", "cpc", "Paid Social", "LinkedIn sponsored content"),
    "tiktok-ads": Preset("tiktok", "cpc", "Paid Social", "TikTok ads"),
    "x-ads": Preset("twitter", "cpc", "Paid Social", "X ads (GA4 lists `twitter`, not `x`)"),
    "reddit-ads": Preset("reddit", "cpc", "Paid Social", "Reddit ads"),
    "youtube-ads": Preset("youtube", "cpv", "Paid Video", "YouTube video ads"),
    "display": Preset("display-network", "display", "Display", "banner and display ads"),
    "facebook": Preset("facebook", "social", "Organic Social", "organic Facebook posts"),
    "linkedin": Preset("linkedin", "social", "Organic Social", "organic LinkedIn posts"),
    "x": Preset("twitter", "social", "Organic Social", "organic posts on X"),
    "affiliate": Preset("partner", "affiliate", "Affiliates", "affiliate partners"),
    "podcast": Preset("podcast", "audio", "Audio", "podcast and audio ads"),
}


def with_preset(values: Mapping[str, str | None], preset: Preset | None) -> dict[str, str | None]:
    """`values` with source and medium taken from `preset` where they are not given (None):
    explicit values win, as on `tagtrail build --preset`."""
    out = dict(values)
    if preset is not None:
        if out.get("source") is None:
            out["source"] = preset.source
        if out.get("medium") is None:
            out["medium"] = preset.medium
    return out
