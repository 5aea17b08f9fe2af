"""Request and response bodies of the API (pydantic lives only at the edges)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

Tag = Annotated[str, Field(min_length=1, max_length=100)]


class UtmValues(BaseModel):
    """UTM values; any left out are not set at this level."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(None, max_length=500)
    medium: str | None = Field(None, max_length=500)
    campaign: str | None = Field(None, max_length=500)
    id: str | None = Field(None, max_length=100)
    term: str | None = Field(None, max_length=500)
    content: str | None = Field(None, max_length=500)
    source_platform: str | None = Field(None, max_length=500)
    creative_format: str | None = Field(None, max_length=500)
    marketing_tactic: str | None = Field(None, max_length=500)

    def given(self) -> dict[str, str]:
        """The UTM values that were set (and only those: not a subclass's other fields)."""
        values = ((name, getattr(self, name)) for name in UtmValues.model_fields)
        return {name: value for name, value in values if value is not None}


class LinkCreate(UtmValues):
    """A new short link: its destination, optional code and campaign, and link-level UTMs.

    `campaign` names the tagtrail campaign (created on first use); its name is the default
    `utm_campaign`. `utm_campaign` itself can be set with `utm.campaign`.
    """

    url: str = Field(..., max_length=8192, description="The destination URL (http or https).")
    code: str | None = Field(None, max_length=64, description="A custom code; random if absent.")
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    forward_query: bool = False
    honeypot: bool = False
    expires_at: datetime | None = None


class LinkUpdate(UtmValues):
    url: str | None = Field(None, max_length=8192)
    tags: list[Tag] | None = Field(None, max_length=50)
    forward_query: bool | None = None
    honeypot: bool | None = None
    expires_at: datetime | None = None


class LinkWarning(BaseModel):
    """Something a new link was made with but should be told: `W_EXPIRES_IN_PAST` (its
    expiry is already past) or `W_DUPLICATE_LINK` (`links` already lead to the same tracked
    URL)."""

    code: str
    message: str
    hint: str | None = None
    links: list[str] | None = None


class LinkPublic(BaseModel):
    """A short link. `tracked_url` is where it redirects (all default UTMs applied)."""

    tracked: Literal[True] = True
    code: str
    short_url: str
    destination: str
    tracked_url: str
    channel: str | None
    campaign: str | None
    utm: dict[str, str]
    tags: list[str]
    forward_query: bool
    honeypot: bool
    disabled: bool
    expires_at: str | None
    created_at: str
    issues: list[dict[str, Any]]


class LinkCreated(LinkPublic):
    """A new short link, with `warnings` when there is something to warn about."""

    warnings: list[LinkWarning] | None = Field(
        None, description="Present only when there is something to warn about."
    )


class LinkUntracked(BaseModel):
    """The answer for a destination on an excluded domain: no short link was made, and
    `short_url` is the tracked destination URL itself (with the default UTMs applied)."""

    tracked: Literal[False] = False
    code: None = None
    short_url: str
    destination: str
    tracked_url: str
    channel: str | None
    campaign: str | None
    utm: dict[str, str]
    excluded_domain: str
    issues: list[dict[str, Any]]


class RowError(BaseModel):
    """A CSV row that was refused."""

    line: int = Field(description="The row's line number in the CSV (the header is line 1).")
    error: str
    issues: list[dict[str, Any]] = Field(description="The link builder's issues, if any.")


class LinksImported(BaseModel):
    created: list[Annotated[LinkCreated | LinkUntracked, Field(discriminator="tracked")]]
    errors: list[RowError]
    ignored_columns: list[str] = Field(description="Header columns that were not read.")


class LinksPublic(BaseModel):
    data: list[LinkPublic]
    count: int


class RecipientUrlRequest(BaseModel):
    recipient: str = Field(
        ..., min_length=1, max_length=320, description="An email address or a user id."
    )


class RecipientUrl(BaseModel):
    url: str


class Stats(BaseModel):
    total: int
    human: int
    bot: int
    unique: int
    recipients: list[dict[str, Any]]
    by_day: list[dict[str, Any]]


#: A holdout share as `--holdout` takes it: `"10%"`, `"10"` or the number 10 (percent).
Holdout = StrictStr | StrictInt | StrictFloat | None
_HOLDOUT = (
    "The percentage of the campaign's recipients held out (DESIGN §10), such as 10% or 10; "
    "0 for none. Held-out recipients get a recorded send and no message."
)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        ..., min_length=1, max_length=200, description="Also its default utm_campaign."
    )
    default_utm: UtmValues = Field(
        default_factory=UtmValues, description="UTM values every link of the campaign gets."
    )
    holdout: Holdout = Field(None, description=_HOLDOUT)


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_utm: UtmValues | None = Field(None, description="Replaces the defaults ({}: none).")
    holdout: Holdout = Field(None, description=_HOLDOUT)


class CampaignPublic(BaseModel):
    name: str
    default_utm: dict[str, str]
    holdout: str = Field(description="The share of recipients held out, such as 10%.")
    links: int = Field(description="How many links the campaign has.")
    created_at: str


class CampaignsPublic(BaseModel):
    data: list[CampaignPublic]
    count: int


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_utm: UtmValues | None = Field(None, description="Replaces the defaults ({}: none).")
    identify: bool | None = Field(
        None, description="Hand landing pages a signed identity hint on recipient clicks."
    )
    excluded_domains: list[Annotated[str, Field(max_length=253)]] | None = Field(
        None, max_length=500, description="Domains (and their subdomains) never short-linked."
    )
    global_holdout: Holdout = Field(
        None,
        description="The global control group (DESIGN §10): a percentage of recipients held "
        "out of every campaign, such as 5% or 5 (0: none).",
    )


class WorkspacePublic(BaseModel):
    name: str
    default_utm: dict[str, str]
    identify: bool
    excluded_domains: list[str]
    global_holdout: str = Field(description="The share held out of every campaign, such as 5%.")
    created_at: str


class SendIn(BaseModel):
    """One message sent to one recipient (an exposure)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    recipient: str = Field(..., min_length=1, max_length=320, description="Email or user id.")
    sent_at: datetime = Field(description="ISO 8601; no zone means UTC.")
    campaign: str | None = Field(None, max_length=200)
    message: str = Field("", max_length=500, description="The message (email, SMS) id.")
    channel: str = Field("", max_length=100, description="email, sms, push, ...")
    held_out: StrictBool = Field(
        False,
        description="Held out of the campaign (DESIGN §10): the recipient was not sent the "
        "message; recorded as the time anchor of the lift's control group.",
    )


class SendsStored(BaseModel):
    stored: int


class BuildRequest(UtmValues):
    """The fields of `tagtrail build`."""

    url: str = Field(..., min_length=1, max_length=8192, description="The destination URL.")
    preset: str | None = Field(None, max_length=100, description="Fill source and medium.")


class BuildResponse(BaseModel):
    status: Literal["ok", "warning", "error"]
    tracked_url: str | None
    channel: str | None
    issues: list[dict[str, Any]]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., min_length=1, max_length=8192)
    max_hops: int = Field(10, ge=0, le=10, description="Most redirects followed.")
    timeout: float = Field(10.0, gt=0, le=10, description="Seconds for the whole chain.")


class CampaignStats(Stats):
    campaign: str
