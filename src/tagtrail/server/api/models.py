"""Request and response bodies of the API (pydantic lives only at the edges)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
    tags: list[str] = Field(default_factory=list, max_length=50)
    forward_query: bool = False
    honeypot: bool = False
    expires_at: datetime | None = None


class LinkUpdate(UtmValues):
    url: str | None = Field(None, max_length=8192)
    tags: list[str] | None = Field(None, max_length=50)
    forward_query: bool | None = None
    honeypot: bool | None = None
    expires_at: datetime | None = None


class LinkPublic(BaseModel):
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
